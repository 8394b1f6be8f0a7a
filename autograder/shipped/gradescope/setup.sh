#!/usr/bin/env bash
# Gradescope builds the autograder image with this, once, as root, with internet.
set -euo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
  python3 python3-venv python3-pip bubblewrap util-linux libseccomp2
# A venv outside /root, so the unprivileged user that runs student code can use the interpreter.
python3 -m venv /opt/lab8-venv
/opt/lab8-venv/bin/pip install --no-cache-dir -r /autograder/source/requirements.txt
cd /autograder/source
/opt/lab8-venv/bin/python -m autograder.shipped.gradescope setup
