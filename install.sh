#!/usr/bin/env bash
# One-time set-up on a fresh Debian/Ubuntu machine (as root): TeX for the worksheet, bubblewrap (the sandbox
# student code is graded in), Chromium (the browser tests), Slurm and munge (tests/grading/test_slurm.py runs
# the README's Slurm recipe on a one-node cluster it starts), debootstrap (tests/release/test_colab.py rebuilds
# Colab's runtime in a Debian trixie root), then the Python packages.
set -euo pipefail
cd "$(dirname "$0")"
if command -v apt-get >/dev/null; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    texlive-latex-base texlive-latex-recommended texlive-pictures latexmk poppler-utils bubblewrap util-linux libseccomp2 chromium chromium-driver \
    slurm-wlm munge debootstrap >/dev/null
fi
python -m pip install -q -r requirements.txt
python -m pip install -q --no-deps -e .   # the project itself: replab, autograder, … importable from anywhere
