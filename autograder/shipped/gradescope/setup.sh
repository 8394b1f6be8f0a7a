#!/usr/bin/env bash
# Gradescope builds the autograder image with this, once, as root, with internet.
#
# The autograder runs in a venv at /opt/lab8-venv with the Python the release was verified with (the build's minor
# version, in python_version beside this file): the image's own python3 where it is that version (Debian 12), else
# one fetched by uv (pinned, from PyPI) — Gradescope's default image, Ubuntu 22.04, has Python 3.10, and 24.04 has
# 3.12, while the pins (numpy 2.4, pandas 3) need 3.11 or newer. uv keeps its Python under /opt, where the
# unprivileged users that run student code can reach it.
set -euo pipefail
cd "$(dirname "$0")"
WANT="$(tr -d '[:space:]' < python_version)"
UV_VERSION=0.9.17
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  python3 python3-venv python3-pip ca-certificates bubblewrap util-linux libseccomp2 passwd
HAVE="$(python3 -c 'import sys; print(f"{sys.version_info.major}.{sys.version_info.minor}")')"
if [ "$HAVE" = "$WANT" ]; then
  echo "lab8 setup: the image's python3 is $HAVE, the release's: using it"
  python3 -m venv /opt/lab8-venv
else
  echo "lab8 setup: the image's python3 is $HAVE; the release was verified with $WANT: fetching it with uv $UV_VERSION"
  python3 -m venv /opt/lab8-uv
  /opt/lab8-uv/bin/pip install --no-cache-dir --quiet "uv==$UV_VERSION"
  export UV_PYTHON_INSTALL_DIR=/opt/lab8-python
  /opt/lab8-uv/bin/uv python install "$WANT"
  /opt/lab8-uv/bin/uv venv --seed --python "$WANT" --python-preference only-managed /opt/lab8-venv
fi
/opt/lab8-venv/bin/python -c 'import sys; print("lab8 setup: the autograder runs Python", sys.version.split()[0])'
/opt/lab8-venv/bin/python -m pip install --no-cache-dir -r requirements.txt
/opt/lab8-venv/bin/python -m autograder.shipped.gradescope setup
