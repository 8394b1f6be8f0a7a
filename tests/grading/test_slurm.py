"""The README's Slurm recipe ("A class on a cluster"), run on a real one-node Slurm cluster started here.

Slow (full tier), because it starts munged, slurmctld and slurmd (Debian's `munge` and `slurm-wlm`, which
install.sh installs) and waits for a Slurm array job and its dependent merge to be scheduled and run: tens
of seconds however small the class. It runs as root (the daemons) and is skipped, with the reason, where
Slurm or munge is not installed.

The two fenced blocks are taken from README.md as written; only the paths under /course/ become this
test's folders and the array's size 8 becomes 3. The jobs' `build.py grade` grades stored results (a
sitecustomize hook, switched on by LAB8_STORED_RESULTS in the jobs' environment, stands in for the
notebook runs), so what is tested is the recipe — sbatch, the array's shard arithmetic, afterok, merge —
and the merged grades.csv is compared with a single `build.py grade` of the same class.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.grading.conftest import QUESTIONS, results

ROOT = Path(__file__).resolve().parents[2]
SHARDS = 3
SCORES = {"ada.ipynb": 10.0, "blank.ipynb": 0.0, "grace.ipynb": 7.0, "linus.ipynb": 5.0}
DAEMONS = ("munged", "slurmctld", "slurmd", "sbatch", "squeue", "scontrol")

# Loaded by every Python the jobs start (it is first on their PYTHONPATH): with LAB8_STORED_RESULTS set,
# `build.py grade` writes each submission's stored results.json instead of running its notebook, and the
# release's written questions are the stored ones (the fake zip holds no data snapshot to word them from).
HOOK = '''
import os
if os.environ.get("LAB8_STORED_RESULTS"):
    import json
    from pathlib import Path
    import autograder.grading.batch as batch
    import autograder.grading.written as written
    stored = json.loads(Path(os.environ["LAB8_STORED_RESULTS"]).read_text())

    def grade_submissions(paths, autograder_zip, out_dir, stems=None, **_):
        done = []
        for path, stem in zip(paths, stems):
            data = stored["results"][Path(path).name]
            (Path(out_dir) / stem).mkdir(parents=True, exist_ok=True)
            (Path(out_dir) / stem / "results.json").write_text(json.dumps(data))
            done.append({"submission": stem, "source": str(path), "outcome": "graded", **data})
        return done

    batch.grade_submissions = grade_submissions
    written.release_questions = lambda zip_path, variant: stored["questions"]
'''


def readme_blocks() -> tuple[str, str]:
    """The array job's script and the submitting commands, as the README gives them."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    script = next(b for b in blocks if b.startswith("#!/bin/bash") and "--array=" in b)
    submit = next(b for b in blocks if "sbatch --parsable grade.sbatch" in b)
    return script, submit


def substitute(text: str, course: Path, subs: Path) -> str:
    """Only the /course/ paths and the array size change; each must be there (a README edit that moves
    them fails here rather than running something else)."""
    for old, new in (("/course/lab8", str(course)), ("/course/submissions", str(subs)),
                     ("--array=1-8", f"--array=1-{SHARDS}"), ('"$SLURM_ARRAY_TASK_ID/8"', f'"$SLURM_ARRAY_TASK_ID/{SHARDS}"')):
        if old in text:
            text = text.replace(old, new)
    assert "/course/" not in text, text
    return text


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def slurm_conf(base: Path, host: str, munge_socket: Path) -> str:
    cpus = os.cpu_count() or 1
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2**20
    return f"""# one node, this host; no accounting, no cgroups (a plain container has none to give)
ClusterName=lab8test
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket={munge_socket}
CredType=cred/munge
SlurmctldPort={free_port()}
SlurmdPort={free_port()}
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/slurmctld.log
SlurmdLogFile={base}/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName={host} CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=main Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


@pytest.fixture
def cluster(tmp_path):
    """munged, slurmctld and slurmd of our own (their files in a short temporary folder), stopped after."""
    missing = [d for d in DAEMONS if not shutil.which(d)]
    if missing:
        pytest.skip(f"Slurm/munge not installed (no {', '.join(missing)}): apt-get install slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("the Slurm daemons run as root here")
    base = Path(tempfile.mkdtemp(prefix="lab8slurm-"))   # short: a Unix socket path has at most 107 bytes
    for sub in ("state", "spool"):
        (base / sub).mkdir()
    key = base / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    sock = base / "munge.sock"
    host = socket.gethostname().split(".")[0]
    conf = base / "slurm.conf"
    conf.write_text(slurm_conf(base, host, sock))
    env = {**os.environ, "SLURM_CONF": str(conf)}
    procs = []
    try:
        procs.append(subprocess.Popen(["munged", "-F", "--force", f"--socket={sock}", f"--key-file={key}",
                                       f"--pid-file={base}/munged.pid", f"--log-file={base}/munged.log",
                                       f"--seed-file={base}/munged.seed"],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        for _ in range(100):
            if sock.exists():
                break
            time.sleep(0.1)
        procs.append(subprocess.Popen(["slurmctld", "-D", "-i", "-f", str(conf)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        procs.append(subprocess.Popen(["slurmd", "-D", "-f", str(conf)], env=env,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT))
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = subprocess.run(["sinfo", "-h", "-o", "%T"], env=env, capture_output=True, text=True).stdout.strip()
            if state in ("idle", "mixed", "allocated"):
                break
            assert all(p.poll() is None for p in procs), logs(base)
            time.sleep(0.5)
        else:
            pytest.fail(f"the node never became idle (state {state!r})\n{logs(base)}")
        yield env, base
    finally:
        for proc in reversed(procs):   # only what this test started, by its process
            proc.terminate()
        for proc in reversed(procs):
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        shutil.rmtree(base, ignore_errors=True)


def logs(base: Path) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in sorted(base.glob("*.log")))


def job_states(env, ids) -> dict[str, str]:
    """{job or array task id: state} for the jobs given, as scontrol shows them (kept MinJobAge seconds)."""
    states = {}
    for job in ids:
        out = subprocess.run(["scontrol", "-o", "show", "job", job], env=env, capture_output=True, text=True).stdout
        for line in out.splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            task = fields.get("ArrayTaskId")
            states[f"{job}_{task}" if task else job] = fields.get("JobState", "?")
    return states


@pytest.mark.slow
def test_the_readme_slurm_recipe_runs_on_slurm(cluster, tmp_path):
    env, base = cluster
    course = tmp_path / "lab8"                 # /course/lab8: a checkout with dist/ (here: build.py and a zip)
    subs = tmp_path / "submissions"            # /course/submissions
    hook = tmp_path / "hook"
    for folder in (course / "dist" / "wikipedia" / "autograder", subs, hook):
        folder.mkdir(parents=True)
    shutil.copy(ROOT / "build.py", course / "build.py")
    (course / "dist" / "wikipedia" / "autograder" / "lab8_wikipedia_autograder.zip").write_bytes(b"stored results")
    (hook / "sitecustomize.py").write_text(HOOK)
    stored = tmp_path / "stored.json"
    stored.write_text(json.dumps({"results": {name: results(name[:-6], score) for name, score in SCORES.items()},
                                  "questions": QUESTIONS}))
    for name in SCORES:   # tiny notebooks: a name, a code answer (ada's and linus's alike) and no outputs
        code = "def separation_ratio(e, l):\n    c = [e[l == k].mean(0) for k in set(l)]\n    return len(c) * 2.0 + 1\n"
        nb = {"cells": [{"cell_type": "code", "id": "a", "metadata": {}, "outputs": [], "execution_count": None,
                         "source": code if name in ("ada.ipynb", "linus.ipynb") else "pass\n"},
                        {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [], "execution_count": None,
                         "source": 'grader.check("q4_separation")'},
                        {"cell_type": "code", "id": "c", "metadata": {}, "outputs": [], "execution_count": None,
                         "source": f"STUDENT_NAME = {name[:-6].title()!r}\nSTUDENT_ID = ''\n"}],
              "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        (subs / name).write_text(json.dumps(nb))
    env = {**env, "PYTHONPATH": os.pathsep.join([str(hook), str(ROOT)]), "LAB8_STORED_RESULTS": str(stored)}

    script, submit = (substitute(block, course, subs) for block in readme_blocks())
    assert f"--array=1-{SHARDS}" in script and f'"$SLURM_ARRAY_TASK_ID/{SHARDS}"' in script, script
    (course / "grade.sbatch").write_text(script)
    start = time.monotonic()
    # The README's two lines as written, then the ids they got (the array's is $jobid; the merge's is the
    # "Submitted batch job N" sbatch prints).
    out = subprocess.run(["bash", "-c", submit + 'echo "array=$jobid"\n'], cwd=course, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr + logs(base)
    array = re.search(r"array=(\d+)", out.stdout).group(1)
    merge_job = re.search(r"Submitted batch job (\d+)", out.stdout).group(1)

    seen: dict[str, list[str]] = {}
    deadline = time.monotonic() + 300
    while True:
        states = job_states(env, [array, merge_job])
        for job, state in states.items():
            if not seen.get(job) or seen[job][-1] != state:
                seen.setdefault(job, []).append(state)
        done = len(states) == SHARDS + 1 and all(s in ("COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL",
                                                         "OUT_OF_MEMORY", "DEADLINE") for s in states.values())
        if done or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    wall = time.monotonic() - start
    job_logs = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-1500:]}" for p in sorted(course.glob("slurm-*.out")))
    print(f"\nslurm: array {array} ({SHARDS} tasks) + merge {merge_job}; states seen {seen}; {wall:.1f} s")
    assert states == {**{f"{array}_{i}": "COMPLETED" for i in range(1, SHARDS + 1)}, merge_job: "COMPLETED"}, \
        f"{seen}\n{job_logs}\n{logs(base)}"
    assert "PENDING" in seen[merge_job]   # it waited for the array (afterok), it did not run beside it

    merged = course / "graded" / "all"
    assert sorted(p.name for p in (course / "graded").iterdir()) == ["all", *(f"shard-{i}" for i in range(1, SHARDS + 1))]
    one = subprocess.run([sys.executable, "build.py", "grade", *sorted(map(str, subs.glob("*.ipynb"))), "--variant",
                          "wikipedia", "--release", "dist", "--out", str(tmp_path / "one")],
                         cwd=course, env=env, capture_output=True, text=True, timeout=300)
    assert one.returncode == 0, one.stderr
    for name in ("grades.csv", "written.html", "similarity.json"):
        assert (merged / name).read_text() == (tmp_path / "one" / name).read_text(), name
    rows = (merged / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(SCORES) and rows[1].startswith("ada,") and ",10.0,graded" in rows[1]
    pairs = json.loads((merged / "similarity.json").read_text())["pairs"]
    assert [(p["kind"], p["a"], p["b"]) for p in pairs] == [("code", "ada", "linus")]
