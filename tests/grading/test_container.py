"""The container the --gradescope trial makes (autograder/grading/container.py): what Gradescope's Docker
container withholds is withheld here too, so the grader has to choose its own sandbox as it must there."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from autograder.grading.container import Container

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the trial's container is made by root")

INSIDE = r"""
import json, os, subprocess
from autograder.shipped import sandbox
caps = int([l for l in open('/proc/self/status') if l.startswith('CapBnd:')][0].split()[1], 16)
userns = 'made' if subprocess.run(['unshare', '--user', 'true'], capture_output=True).returncode == 0 else 'refused'
groups = {l.split(':', 2)[1]: l.split(':', 2)[2].strip() for l in open('/proc/self/cgroup')}
print(json.dumps({'uid': os.getuid(), 'sys_admin': bool(caps >> 21 & 1), 'setuid': bool(caps >> 7 & 1),
                  'userns': userns, 'bwrap': sandbox.bwrap_works(), 'mode': sandbox.choose_mode('auto'),
                  'cpu': groups.get('cpu'), 'memory': groups.get('memory')}))
"""


def test_the_trial_container_is_root_without_namespaces_at_half_a_cpu():
    from autograder.shipped.gradescope import setup_user
    setup_user()   # as the zip's setup.sh does before any grading: the grader inside picks its user
    box = Container(cpus=0.5, memory=2 * 2**30)
    try:
        if not box.cgroups:
            pytest.skip(box.describe())
        names = {p.name for p in box.cgroups}
        quota = next(p for p in box.cgroups if (p / "cpu.cfs_quota_us").exists() or (p / "cpu.max").exists())
        limit = (quota / "cpu.cfs_quota_us").read_text().strip() if (quota / "cpu.cfs_quota_us").exists() \
            else (quota / "cpu.max").read_text().split()[0]
        assert limit == "50000"
        proc = subprocess.run(box.command([sys.executable, "-c", INSIDE]), capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr[-2000:]
        seen = json.loads(proc.stdout.strip().splitlines()[-1])
        described = box.describe()
    finally:
        box.close()
    assert "0.5 CPU" in described and "user namespaces refused" in described
    assert seen["uid"] == 0 and not seen["sys_admin"] and seen["setuid"]   # Docker's capabilities, as root
    assert seen["userns"] != "made" and not seen["bwrap"]                   # so no bubblewrap in there
    assert seen["mode"] == "user"                                           # the grader falls back by itself
    assert {seen["cpu"].rsplit("/", 1)[-1], seen["memory"].rsplit("/", 1)[-1]} <= names or \
        (seen["cpu"] or "").rsplit("/", 1)[-1] in names                  # it ran inside its cgroups
    assert not any(p.exists() for p in [quota])                           # and they are gone afterwards


LAYERS = r"""
import json
from autograder.shipped import sandbox
from autograder.shipped.sandbox import contain
print(json.dumps({"layers": contain.available(), "describe": sandbox.describe("user", contain.available())}))
"""


def test_a_host_without_landlock_is_a_container_setting_and_results_say_what_held():
    """`--gradescope --no-landlock`: the container refuses Landlock's calls, as a host with an older kernel or
    Docker profile does; the grader inside then applies seccomp alone and its containment line says Landlock
    is not there (files kept by their owners and modes). With Landlock, both layers."""
    seen = {}
    for landlock in (True, False):
        box = Container(cpus=0.5, memory=2 * 2**30, landlock=landlock)
        try:
            proc = subprocess.run(box.command([sys.executable, "-c", LAYERS]), capture_output=True, text=True,
                                  timeout=120)
            assert proc.returncode == 0, proc.stderr[-2000:]
            seen[landlock] = (json.loads(proc.stdout.strip().splitlines()[-1]), box.describe())
        finally:
            box.close()
    (inside, outside), (bare, bare_outside) = seen[True], seen[False]
    assert inside["layers"] == ["seccomp", "landlock"] and "Landlock refused" not in outside
    assert bare["layers"] == ["seccomp"] and "Landlock refused" in bare_outside
    assert "Landlock: not on this host (files are kept from the student side by their owners and modes alone)" \
        in bare["describe"] and "Landlock: reads" not in bare["describe"]
