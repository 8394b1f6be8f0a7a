"""The grading engine's parts, each alone: staging, the sandbox, reading the student side's evidence,
the score built from the config's question list, the infrastructure retry, and the TA outputs.
Whole submissions, honest and hostile, are graded in test_students.py."""
import json
import os
import pwd
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import psutil
import pytest

from autograder.shipped import sandbox
from autograder.contract import GradingSpec
from autograder.grading.curves import heldout_silhouettes, separation_curves
from autograder.grading.batch import write_grades_csv
from autograder.shipped.grade import InvalidSubmission, Release, grade_one, open_release, stage
from autograder.shipped.judge.evidence import Evidence

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def wiki(small_release, tmp_path_factory):
    out, _ = small_release
    return open_release(out / "wikipedia/autograder/lab8_wikipedia_autograder.zip", tmp_path_factory.mktemp("rel"))


def _notebook(path, *sources):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))
    return path


# ------------------------------------------------------------------------------------- staging
def test_stage_renames_the_notebook_and_lays_the_release_files_over_a_zip(wiki, tmp_path):
    sub = tmp_path / "mine.zip"
    nb = _notebook(tmp_path / "x.ipynb", "print(1)")
    with zipfile.ZipFile(sub, "w") as z:
        z.write(nb, "folder/My Lab.ipynb")
        z.writestr("extra/notes.txt", "mine")
        z.writestr("replab/corpus.py", "raise SystemExit('a replab of my own')")
    staged = stage(sub, tmp_path / "scratch", wiki)
    assert staged.name == "lab8_wikipedia.ipynb" and staged.is_file()
    assert (tmp_path / "scratch/extra/notes.txt").read_text() == "mine"
    assert "SystemExit" not in (tmp_path / "scratch/replab/corpus.py").read_text()  # the release's own replab
    assert (tmp_path / "scratch" / wiki.spec.data).is_file() and (tmp_path / "scratch/tests/q1_hook.py").is_file()


@pytest.mark.parametrize("name, content, message", [
    ("broken.ipynb", b'{"cells": [ not json', "not a readable Jupyter notebook"),
    ("two.zip", None, "holds 2 notebooks"),
    ("notes.txt", b"hello", "expected a .ipynb notebook"),
    ("bad.zip", b"PK not a zip", "not a valid zip file"),
])
def test_unusable_submissions_are_named_in_one_line(wiki, tmp_path, name, content, message):
    sub = tmp_path / name
    if content is None:
        with zipfile.ZipFile(sub, "w") as z:
            z.writestr("a.ipynb", "{}")
            z.writestr("b.ipynb", "{}")
    else:
        sub.write_bytes(content)
    with pytest.raises(InvalidSubmission, match=message) as e:
        stage(sub, tmp_path / "scratch", wiki)
    assert str(e.value).startswith(name) and "\n" not in str(e.value)


# ------------------------------------------------------------------------------------- sandbox
PROBE = """\
import os, socket, json, subprocess
seen = {'uid': os.getuid(), 'pid': os.getpid(), 'procs': len([p for p in os.listdir('/proc') if p.isdigit()])}
try:
    seen['root'] = sorted(os.listdir('/'))
except OSError as e:
    seen['root'] = type(e).__name__
for name, path in (('repo', %(repo)r), ('secret', %(secret)r)):
    try:
        open(path).read(1); seen[name] = 'read'
    except OSError as e:
        seen[name] = type(e).__name__
for name, family in (('net', socket.AF_INET), ('net6', socket.AF_INET6)):
    try:
        socket.socket(family, socket.SOCK_STREAM).connect(('127.0.0.1', 9) if family == socket.AF_INET else ('::1', 9))
        seen[name] = 'connected'
    except OSError as e:
        seen[name] = e.errno
try:
    with open('/tmp/lab8-scratch.txt', 'w') as f:
        f.write('mine')
    seen['tmp'] = open('/tmp/lab8-scratch.txt').read()
except OSError as e:
    seen['tmp'] = str(e)
try:
    seen['tmp_listed'] = 'lab8-scratch.txt' in os.listdir('/tmp')
except OSError as e:
    seen['tmp_listed'] = type(e).__name__
subprocess.Popen(['sleep', '963'], start_new_session=True)
open('seen.json', 'w').write(json.dumps(seen))
"""


def _probe(tmp_path, mode, private=()):
    import errno
    import tempfile
    top = Path(tempfile.mkdtemp(prefix="lab8-test-"))   # as grade_one's workspace: reachable, not listable
    os.chmod(top, 0o711)
    # world-readable, like a release left on a shared disk (outside /tmp: in user mode /tmp is the machine's
    # own, shared and writable, so only what is kept out of it is out of reach)
    secret = Path(tempfile.mkdtemp(prefix="lab8-test-", dir="/var/tmp")) / "answers.txt"
    secret.write_text("42")
    os.chmod(secret.parent, 0o755)
    os.chmod(secret, 0o644)
    scratch = top / "ws" / "scratch"
    scratch.mkdir(parents=True)
    code = PROBE % {"repo": str(ROOT / "README.md"), "secret": str(secret)}
    state, _ = sandbox.run_contained(mode, scratch, [sys.executable, "-c", code], {}, 60, tmp_path / "log",
                                     private=private)
    assert state == "done", (tmp_path / "log").read_text()[-2000:]
    try:
        seen = json.loads((scratch / "seen.json").read_text())
    finally:
        import shutil
        shutil.rmtree(top, ignore_errors=True)
        shutil.rmtree(secret.parent, ignore_errors=True)
    assert not [p for p in psutil.process_iter(["cmdline"]) if p.info["cmdline"] == ["sleep", "963"]]
    assert seen["uid"] != 0 and seen["tmp"] == "mine", seen            # a private /tmp it may write
    assert seen["net"] != "connected" and seen["net6"] != "connected", seen
    if "seccomp" in sandbox.layers():
        assert seen["net"] == errno.EACCES, seen                        # refused before any packet
    if "landlock" in sandbox.layers() or mode == "bwrap":
        assert seen["repo"] != "read" and seen["secret"] != "read", seen
    return seen


def test_bubblewrap_contains_the_student_side(tmp_path):
    if not sandbox.bwrap_works():
        pytest.skip("bubblewrap cannot make namespaces here")
    seen = _probe(tmp_path, "bwrap")
    assert seen["pid"] < 10 and seen["procs"] < 10
    assert "work" in seen["root"] and "autograder" not in seen["root"] and "home" not in seen["root"]


def test_the_sandbox_user_is_contained_without_namespaces(tmp_path):
    """What a root container such as Gradescope's allows: a uid of its own, fresh for the run, and the layers
    an unprivileged process puts on itself (seccomp: no IP sockets; Landlock: the files it may touch)."""
    if os.geteuid() != 0:
        pytest.skip("the sandbox user is run by root")
    from autograder.shipped.gradescope import setup_user
    setup_user()
    assert {"seccomp", "landlock"} <= set(sandbox.layers()), "this machine offers both layers (kernel 6.x)"
    seen = _probe(tmp_path, "user")
    assert seen["uid"] in sandbox.SANDBOX_UIDS and seen["uid"] not in {u.pw_uid for u in pwd.getpwall()}
    # the machine's /tmp: a file named there is the notebook's to write and read, what is there cannot be listed
    assert seen["tmp"] == "mine" and seen["tmp_listed"] == "PermissionError", seen
    assert not os.path.exists("/tmp/lab8-scratch.txt")   # what it left in /tmp went with its run
    assert "Landlock" in sandbox.describe("user", sandbox.layers())


def test_user_mode_closes_what_any_uid_could_read_wherever_it_lives(tmp_path, monkeypatch):
    """User mode's uids are fresh and in no group: a release, a submissions folder or the checkout that any uid
    can reach (under /tmp, where Landlock lets a file be read by name, or anywhere on a host without Landlock) is
    closed to others before student code runs, with a line saying so; what cannot be closed is refused in one
    line naming it."""
    import tempfile
    shared = Path(tempfile.mkdtemp(prefix="lab8-test-release-"))   # /tmp: as a clone or a release left there
    (shared / "solutions").mkdir()
    (shared / "solutions" / "answer.py").write_text("42")
    os.chmod(shared, 0o755)
    try:
        lines = sandbox.close_to_others([shared])
        assert any(line.startswith(f"user mode: closed {shared} to other users (mode 755 → 750)") for line in lines)
        assert not shared.stat().st_mode & 0o007 and sandbox.close_to_others([shared]) == []
        assert not sandbox.user.open_to_others(sandbox.PROJECT) or sandbox.PROJECT in \
            {Path(r) for r in sandbox._python_roots()}      # the checkout too, wherever it is
        os.chmod(shared, 0o755)
        monkeypatch.setattr(sandbox.user, "python_roots", lambda: [str(shared / "venv")])
        (shared / "venv").mkdir()
        with pytest.raises(sandbox.SandboxError, match=f"user mode: {shared} holds the Python student code runs with"):
            sandbox.close_to_others([shared])
    finally:
        import shutil
        shutil.rmtree(shared)


WRITE = """
import os, sys, time
with open(sys.argv[1], "wb") as f:
    for _ in range(int(sys.argv[2])):
        f.write(b"x" * (1 << 20))
        f.flush()
time.sleep(2)   # long enough to be measured
open("finished", "w").close()
"""


@pytest.mark.parametrize("mode, where", [("bwrap", "scratch"), ("user", "scratch"), ("user", "/tmp")])
def test_a_run_that_writes_past_its_disk_share_is_stopped(tmp_path, monkeypatch, mode, where):
    """A run may write sandbox.MAX_DISK_BYTES in all (its folder; in user mode also its files in the machine's /tmp):
    past it the run is stopped ("disk"), with the limit in the results; a run under it is not."""
    if mode == "bwrap" and not sandbox.bwrap_works() or mode == "user" and os.geteuid() != 0:
        pytest.skip(f"no {mode} mode here")
    import tempfile
    monkeypatch.setattr(sandbox, "MAX_DISK_BYTES", 24 << 20)
    monkeypatch.setattr(sandbox, "DISK_EVERY", 0.5)
    for megabytes, expected in ((8, "done"), (40, "disk")):
        scratch = Path(tempfile.mkdtemp(prefix="lab8-test-")) / "scratch"
        scratch.mkdir()
        target = "big.bin" if where == "scratch" else f"/tmp/lab8-test-big-{os.getpid()}.bin"
        state, _ = sandbox.run_contained(mode, scratch, [sys.executable, "-c", WRITE, target, str(megabytes)], {}, 60,
                                         tmp_path / "log")
        assert state == expected and (scratch / "finished").exists() == (expected == "done"), (megabytes, state)
        assert not os.path.exists(f"/tmp/lab8-test-big-{os.getpid()}.bin")   # user mode: its /tmp files go with it
        import shutil
        shutil.rmtree(scratch.parent)


HOLD = """
import ctypes, os, sys, time
how, megabytes = sys.argv[1], int(sys.argv[2])
if how == "workers":   # three forked workers, each its own memory
    for _ in range(3):
        if os.fork() == 0:
            block = bytearray(megabytes << 20)
            time.sleep(20)
            os._exit(0)
elif how == "sysv":    # a System V segment, filled, then left with no process attached
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    key = libc.shmget(0, megabytes << 20, 0o1600)
    at = libc.shmat(key, None, 0)
    ctypes.memset(at, 1, megabytes << 20)
    libc.shmdt(ctypes.c_void_p(at))
time.sleep(3)
open("finished", "w").close()
"""


@pytest.mark.parametrize("mode, how", [("bwrap", "workers"), ("user", "workers"), ("user", "sysv")])
def test_a_run_is_held_to_its_memory_wherever_it_put_it(tmp_path, mode, how):
    """The run's memory is every process it started and the shared memory its uids hold outside them: past its
    limit the run is stopped ("memory"); under it, it is not."""
    if mode == "bwrap" and not sandbox.bwrap_works() or mode == "user" and os.geteuid() != 0:
        pytest.skip(f"no {mode} mode here")
    import tempfile
    # 200 MB for the run (and for each process's data: RLIMIT_DATA): three workers of 120 MB, or a 250 MB segment
    for megabytes, expected in ((10, "done"), (120 if how == "workers" else 250, "memory")):
        scratch = Path(tempfile.mkdtemp(prefix="lab8-test-")) / "scratch"
        scratch.mkdir()
        state, _ = sandbox.run_contained(mode, scratch, [sys.executable, "-c", HOLD, how, str(megabytes)], {}, 60,
                                         tmp_path / "log", memory=200 << 20)
        assert state == expected, (how, megabytes, state, (tmp_path / "log").read_text()[-1500:])
        import shutil
        shutil.rmtree(scratch.parent)


LEAVE_TRACES = """
import ctypes, json, os, subprocess, time
libc = ctypes.CDLL(None, use_errno=True)
seen = {'uid': os.getuid(), 'shm': libc.shmget(0, 1 << 20, 0o1600)}   # IPC_PRIVATE, IPC_CREAT | 0600
seen['msg'] = libc.msgget(0, 0o1600)
open('/dev/shm/lab8-left', 'w').write('x')
open('/tmp/lab8-left-%(run)s', 'w').write('x')
if os.fork() == 0:       # a grandchild that outlives the process that started it
    if os.fork() == 0:
        os.setsid()
        time.sleep(600)
    os._exit(0)
time.sleep(%(stay)s)
json.dump(seen, open('seen.json', 'w'))
"""


def _traces_run(tmp_path, run, stay=0.0):
    import tempfile
    top = Path(tempfile.mkdtemp(prefix="lab8-test-"))
    scratch = top / "scratch"
    scratch.mkdir()
    state, _ = sandbox.run_contained("user", scratch, [sys.executable, "-c", LEAVE_TRACES % {"run": run, "stay": stay}],
                                     {}, 60, tmp_path / f"log{run}")
    seen = json.loads((scratch / "seen.json").read_text())
    import shutil
    shutil.rmtree(top)
    return state, seen


def test_nothing_of_a_user_mode_run_survives_it_and_runs_never_share_a_uid(tmp_path):
    """User mode (no namespaces): each run has a uid of its own, drawn fresh, so two runs (two grading processes
    on one machine) cannot signal or write each other; whatever a run left on the machine — a process that
    escaped its parent, System V shared memory and queues, files in /dev/shm and /tmp — is gone when it ends.
    Runs that share this /tmp go one at a time (a notebook's file there could collide with another's)."""
    if os.geteuid() != 0:
        pytest.skip("user mode is root's")
    from concurrent.futures import ThreadPoolExecutor
    from autograder.shipped.gradescope import setup_user
    setup_user()
    with ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(lambda r: _traces_run(tmp_path, r, stay=1.0), (1, 2)))
    (s1, one), (s2, two) = runs
    assert s1 == s2 == "done" and one["uid"] != two["uid"], runs
    assert one["shm"] >= 0 and one["msg"] >= 0, one        # it could make them: the cleanup is what removed them
    for seen in (one, two):
        uid = seen["uid"]
        assert not [p for p in psutil.process_iter(["uids"]) if p.info["uids"] and p.info["uids"].real == uid]
        assert not sandbox.sysv_objects("shm", uid) and not sandbox.sysv_objects("msg", uid)
        for top in ("/dev/shm", "/tmp"):
            assert not [e for e in os.scandir(top) if e.stat(follow_symlinks=False).st_uid == uid], top
    assert not {str(one['uid']), str(two['uid'])} & set(os.listdir(sandbox.UID_CLAIMS))   # both given back


WATCH_TMP = """
import ctypes, json, os, struct, time
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init1(os.O_NONBLOCK)
watched = {libc.inotify_add_watch(fd, b"/tmp", 0x100 | 0x80): "/tmp"}   # IN_CREATE | IN_MOVED_TO
log = {"seen": [], "changed": [], "refused": 0}
def attempt(path):
    try:
        if os.path.isdir(path):
            wd = libc.inotify_add_watch(fd, path.encode(), 0x100 | 0x80 | 0x2)
            if wd >= 0:
                watched[wd] = path
            for name in os.listdir(path):
                attempt(os.path.join(path, name))
        elif os.path.exists(path):
            with open(path, "a") as f:
                f.write("planted")
            log["changed"].append(path)
    except OSError:
        log["refused"] += 1
end = time.time() + 8
while time.time() < end:
    for path in list(log["seen"]):   # and again: by the name the grader's layout gives (it is public)
        attempt(os.path.join(path, "scratch", "lab8_wikipedia.ipynb"))
    try:
        data = os.read(fd, 1 << 16)
    except BlockingIOError:
        time.sleep(0.05)
        continue
    i = 0
    while i < len(data):
        wd, mask, cookie, n = struct.unpack_from("iIII", data, i)
        path = os.path.join(watched.get(wd, "/tmp"), data[i + 16:i + 16 + n].rstrip(b"\\0").decode())
        i += 16 + n
        log["seen"].append(path)
        attempt(path)
json.dump(log, open("seen.json", "w"))
"""


def test_a_run_that_watches_tmp_cannot_reach_the_next_submission(tmp_path):
    """Two grading processes in user mode on one machine: while one run watches /tmp with inotify (Landlock does not
    cover it) and tries to open whatever appears, the other stages its submission as grade_one does. The next
    submission's scratch folder is root's until its own run holds its own uids, so nothing is changed."""
    if os.geteuid() != 0:
        pytest.skip("user mode is root's")
    import tempfile
    import threading
    from autograder.shipped.gradescope import setup_user
    setup_user()
    attacker = Path(tempfile.mkdtemp(prefix="lab8-test-")) / "scratch"
    attacker.mkdir()
    watching = threading.Thread(target=sandbox.run_contained, args=(
        "user", attacker, [sys.executable, "-c", WATCH_TMP], {}, 60, tmp_path / "attacker.log"))
    watching.start()
    time.sleep(3)   # the watch is on
    workspace = Path(tempfile.mkdtemp(prefix="lab8-grade-"))   # as grade_one stages the next submission
    (workspace / "scratch").mkdir()
    victim = workspace / "scratch" / "lab8_wikipedia.ipynb"
    victim.write_text("{}")
    (workspace / "scratch" / "sub").mkdir()
    (workspace / "scratch" / "sub" / "data.csv").write_text("x")
    state, _ = sandbox.run_contained("user", workspace / "scratch", [sys.executable, "-c", "print('victim')"], {}, 60,
                                     tmp_path / "victim.log")   # waits for the machine, then runs as its own uids
    watching.join()
    seen = json.loads((attacker / "seen.json").read_text())
    assert state == "done" and victim.read_text() == "{}" and (workspace / "scratch" / "sub" / "data.csv").read_text() == "x"
    assert str(workspace) in seen["seen"] and seen["changed"] == [] and seen["refused"], seen
    import shutil
    shutil.rmtree(workspace)
    shutil.rmtree(attacker.parent)


AT_THE_DRIVER = """
import json, os, signal
driver = os.getppid()
seen = {'uid': os.getuid(), 'driver_uid': int(open(f'/proc/{driver}/status').read().split('Uid:')[1].split()[0])}
for name, act in (('signal', lambda: os.kill(driver, 0)), ('environ', lambda: open(f'/proc/{driver}/environ').read()),
                  ('memory', lambda: open(f'/proc/{driver}/mem', 'rb').read(1)),
                  ('bin', lambda: open('_grading/bin/driver.py', 'a').write('#')),
                  ('move', lambda: os.rename('_grading', 'mine'))):
    try:
        act()
        seen[name] = 'done'
    except OSError as e:
        seen[name] = type(e).__name__
print('SEEN' + json.dumps(seen))
"""


@pytest.mark.parametrize("mode", ["bwrap", "user"])
def test_the_notebook_cannot_signal_read_or_rewrite_its_driver(wiki, tmp_path, mode):
    """As root (Gradescope's container, a TA's root shell), the driver and the notebook's kernel run under
    two uids: the notebook cannot signal the driver, read its memory or environment, or change the driver's
    programs and inputs (root's, in a folder the student cannot move)."""
    if os.geteuid() != 0:
        pytest.skip("two uids need root")
    if mode == "bwrap" and not sandbox.bwrap_works():
        pytest.skip("bubblewrap cannot make namespaces here")
    from autograder.shipped.gradescope import setup_user
    setup_user()
    out = tmp_path / "out"
    result = grade_one(_notebook(tmp_path / "n.ipynb", AT_THE_DRIVER), wiki, out, mode)
    executed = nbformat.read(out / "executed.ipynb", as_version=4)
    text = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    seen = json.loads(text.split("SEEN", 1)[1])
    assert seen["uid"] != seen["driver_uid"] and 0 not in (seen["uid"], seen["driver_uid"]), seen
    assert {seen[k] for k in ("signal", "environ", "memory", "bin", "move")} == {"PermissionError"}, seen
    assert result["outcome"] == "graded"
    assert "two unprivileged uids" in result["extra_data"]["containment"] or \
        "another for its driver" in result["extra_data"]["containment"]


# ------------------------------------------------------------------------------------- the probes
RATIO = """
def _ratio(e, l):
    e, l = np.asarray(e, dtype=np.float64), np.asarray(l)
    names = sorted(set(l.tolist()))
    c = np.stack([e[l == n].mean(0) for n in names])
    pairs = [np.linalg.norm(c[i] - c[j], ord=_NORM) for i in range(len(names)) for j in range(i + 1, len(names))]
    within = np.linalg.norm(e - c[[names.index(v) for v in l.tolist()]], ord=_NORM, axis=1)
    return float(np.mean(pairs) / (np.mean(within) + _EPS))
"""


def _q4(result):
    return next(t for t in result["tests"] if t["name"] == "q4_separation")


def test_the_probes_see_what_the_run_left_however_it_was_written(wiki, tmp_path):
    """A cell magic, a tuple assignment, a `try` import, a function bound by assignment (a lambda): the probes
    call what the run defined, so q4's two point-cloud checks pass (its final `separation` is missing here)."""
    nb = _notebook(tmp_path / "n.ipynb", "%%time\nimport numpy as np\n_NORM, _EPS = 2, 0.0",
                   "try:\n    from scipy.spatial.distance import pdist\nexcept ImportError:\n    pdist = None\n" + RATIO
                   + "\nseparation_ratio = lambda embeddings, labels: _ratio(embeddings, labels)")
    q4 = _q4(grade_one(nb, wiki, tmp_path / "out", sandbox.choose_mode("auto")))
    assert q4["score"] == pytest.approx(2.0) and "separation_ratio" not in q4["output"], q4["output"]


def test_planted_outputs_count_for_nothing(wiki, tmp_path):
    """Outputs written where a grader might read them, and the probe cell's own names shadowed: the probes run
    anyway, on what the notebook defines (nothing here), and only what they send the driver is read."""
    plant = ("import json, os\nfor d in ('_grading/out', '_grading/report', '../report', '_grading', '.'):\n"
             "    try:\n        os.makedirs(d, exist_ok=True)\n"
             "        open(os.path.join(d, 'separation.json'), 'w').write(json.dumps({'values': [1.0] * 4}))\n"
             "        open(os.path.join(d, 'status.json'), 'w').write(json.dumps({'probes': {'separation': {'state': 'ran'}}}))\n"
             "    except OSError:\n        pass\n"
             "def exec(*a, **k):\n    return None\n\ndef compile(*a, **k):\n    return None")
    result = grade_one(_notebook(tmp_path / "n.ipynb", plant), wiki, tmp_path / "out", sandbox.choose_mode("auto"))
    assert result["score"] == 0 and result["extra_data"]["outcome"] == "graded"
    assert "the notebook's run left no function separation_ratio defined" in _q4(result)["output"]


def test_no_startup_or_config_file_reaches_a_later_kernel(wiki, tmp_path):
    """The first run writes an IPython startup file and a kernel config file, then a cell kills the kernel: the
    notebook is run again without that cell, in a fresh kernel that must read neither (separation_ratio
    answers wrongly if one ran)."""
    write = ("import os\nos.makedirs('.ipython/profile_default/startup', exist_ok=True)\n"
             "for d in (os.environ.get('IPYTHONDIR', '.'), os.path.expanduser('~/.ipython')):\n"
             "    try:\n        os.makedirs(os.path.join(d, 'profile_default', 'startup'), exist_ok=True)\n"
             "        open(os.path.join(d, 'profile_default', 'startup', '00.py'), 'w').write('STARTUP_RAN = 1')\n"
             "    except OSError:\n        pass\n"
             "for name in ('ipython_config.py', 'ipython_kernel_config.py'):\n"
             "    open(name, 'w').write(\"c.InteractiveShellApp.exec_lines = ['STARTUP_RAN = 1']\")")
    nb = _notebook(tmp_path / "n.ipynb", write, "import os\nos._exit(1)",
                   "import numpy as np\n_NORM, _EPS = 2, 0.0\n" + RATIO +
                   "\ndef separation_ratio(e, l):\n    return 1.0 if 'STARTUP_RAN' in globals() else _ratio(e, l)")
    result = grade_one(nb, wiki, tmp_path / "out", sandbox.choose_mode("auto"))
    assert _q4(result)["score"] == pytest.approx(2.0), _q4(result)["output"]


@pytest.mark.slow   # tens of seconds (a release or a kernel run to its limits): the full tier
def test_the_cells_cannot_spend_the_probes_time(wiki, tmp_path):
    """A last cell busy enough never to be idle and light enough never to reach its CPU limit runs until the
    cells' time is up; the probes then run in their own time, on what the run defined."""
    stall = "import time\nwhile True:\n    t = time.time()\n    while time.time() - t < 0.05:\n        pass\n    time.sleep(0.95)"
    nb = _notebook(tmp_path / "n.ipynb", "import numpy as np\n_NORM, _EPS = 2, 0.0\n" + RATIO +
                   "\nseparation_ratio = _ratio", stall)
    result = grade_one(nb, wiki, tmp_path / "out", sandbox.choose_mode("auto"), timeout=60)
    assert _q4(result)["score"] == pytest.approx(2.0), _q4(result)["output"]
    log = (tmp_path / "out" / "grading.log").read_text()
    assert '"separation": {"state": "ran"' in log


@pytest.mark.slow   # tens of seconds (a release or a kernel run to its limits): the full tier
def test_a_cells_cpu_counts_what_it_started_wherever_it_went(wiki, tmp_path):
    """A cell's CPU time is everything the notebook started: a worker that double-forks away from the kernel
    (handed to the driver) and spins is the cell's, so the cell ends on its CPU limit, not as idle."""
    escape = ("import os, time\nif os.fork() == 0:\n    if os.fork() == 0:\n        while True:\n            pass\n"
              "    os._exit(0)\nos.wait()\ntime.sleep(600)")
    nb = _notebook(tmp_path / "n.ipynb", escape + "\n\ndef snapshot(model, loader):\n    pass", "print('after')")
    # 120 s: the cells have 80 s of wall time, a cell 40 s of CPU (GradingSpec.limits)
    result = grade_one(nb, wiki, tmp_path / "out", sandbox.choose_mode("auto"), timeout=120)
    q2 = next(t for t in result["tests"] if t["name"].startswith("q2"))
    assert "snapshot defined (its cell used more than its CPU time" in q2["output"], q2["output"]


def test_a_notebook_that_starts_with_code_keeps_its_first_cell(wiki, tmp_path):
    """The grader's own cells (the set-up line, the probes) run beside the notebook's, never in place of
    one: a notebook with no title cell (its imports first) is graded with its first cell."""
    out = tmp_path / "out"
    grade_one(_notebook(tmp_path / "n.ipynb", "first = 41", "print(first + 1)"), wiki, out, sandbox.choose_mode("auto"))
    executed = nbformat.read(out / "executed.ipynb", as_version=4)
    assert [c.source for c in executed.cells] == ["first = 41", "print(first + 1)"]
    assert executed.cells[1].outputs[0]["text"] == "42\n", executed.cells[1].outputs


SPY = """
import os
found = []
for pid in filter(str.isdigit, os.listdir('/proc')):
    try:
        line = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()
    except OSError:
        continue
    found += [line] if 'classmate' in line else []
print('FOUND', found)
"""


@pytest.mark.slow   # tens of seconds (a release or a kernel run to its limits): the full tier
def test_no_other_submission_path_is_on_a_command_line_the_student_can_read(small_release, tmp_path):
    """In user mode every process's command line is readable in /proc: `build.py grade`'s own shows only the
    command, never the submissions it was given."""
    if os.geteuid() != 0:
        pytest.skip("user mode is root's")
    from autograder.shipped.gradescope import setup_user
    setup_user()
    out, _ = small_release
    spy = _notebook(tmp_path / "aa_spy.ipynb", SPY)
    other = _notebook(tmp_path / "zz_classmate.ipynb", "x = 1")
    proc = subprocess.run([sys.executable, "build.py", "grade", str(spy), str(other), "--variant", "wikipedia",
                           "--release", str(out), "--out", str(tmp_path / "graded"), "--sandbox", "user"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    executed = nbformat.read(tmp_path / "graded" / "aa_spy" / "executed.ipynb", as_version=4)
    printed = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    assert printed.startswith("FOUND") and "classmate" not in printed.removeprefix("FOUND"), printed


def test_without_a_sandbox_grading_refuses_unless_asked(monkeypatch):
    monkeypatch.setattr(sandbox.bwrap, "works", lambda: False)
    monkeypatch.setattr(sandbox.user, "works", lambda: False)   # not root, say
    monkeypatch.delenv("LAB8_SANDBOX", raising=False)
    with pytest.raises(sandbox.SandboxError, match="--no-sandbox"):
        sandbox.choose_mode()
    assert sandbox.choose_mode("none") == "none"


# ------------------------------------------------------------------------------------- evidence
def test_evidence_is_plain_data_only(tmp_path):
    out = tmp_path / "report"
    out.mkdir(parents=True)
    np.save(out / "good.npy", np.arange(6.0).reshape(2, 3))
    np.save(out / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    np.save(out / "big.npy", np.zeros(1000))
    (out / "secret.npy").symlink_to(out / "good.npy")
    (out / "notes.json").write_text('{"defined": []}')
    (out / "list.json").write_text("[1, 2]")
    ev = Evidence(out)
    assert ev.array("good", 100).shape == (2, 3)
    assert ev.array("objects", 100) is None        # a pickle is never loaded
    assert ev.array("big", 100) is None            # more than asked for
    assert ev.array("secret", 100) is None         # a link is never followed
    assert ev.array("absent", 100) is None
    assert ev.json("notes") == {"defined": []} and ev.json("list") is None


@pytest.mark.parametrize("left", ["file", "link", "fifo", "absent"])
def test_the_driver_reads_the_notebooks_csv_as_a_plain_file_only(tmp_path, left):
    """The CSV the run left is read by the driver once the run's processes are dead and sent in its report: a
    plain file only, never through a link (which could name a file only the driver may read) or a fifo."""
    from autograder.shipped.judge.evidence import Report
    from autograder.shipped.sandbox import driver, wire
    work = tmp_path / "work"
    (work / "_grading").mkdir(parents=True)
    (work / "_grading" / "run.json").write_text(json.dumps({"csv_name": "mantis_embeddings.csv", "probe_timeout": 5}))
    (tmp_path / "secret.csv").write_text("the driver's own\n")
    csv = work / "mantis_embeddings.csv"
    if left == "file":
        csv.write_text("title,categoric\n")
    elif left == "link":
        csv.symlink_to(tmp_path / "secret.csv")
    elif left == "fifo":
        os.mkfifo(csv)
    r, w = os.pipe()
    driver.Run(str(work), b"", w).send_left()
    os.close(w)
    report = Report(tmp_path / "report")
    with os.fdopen(r, "rb") as stream:
        for header, blobs in wire.read_frames(stream, 1 << 20):
            report(header, blobs)
    kept = tmp_path / "report" / "notebook.csv"
    assert (kept.read_text() if kept.exists() else None) == ("title,categoric\n" if left == "file" else None)


def test_the_report_keeps_only_the_files_a_probe_may_send(tmp_path):
    """The grader writes the driver's report into a folder of its own; a name that is not a plain file name of
    the report's kinds is dropped, whatever the message says."""
    from autograder.shipped.judge.evidence import Report
    report = Report(tmp_path / "report")
    report({"op": "probe", "probe": "hook"}, {"hook.json": b"{}", "../escape.json": b"x", ".hidden.npy": b"x",
                                              "run.sh": b"x", "hook_emb0.npy": b"x"})
    report({"op": "status", "status": {"cells": {}}})
    assert sorted(p.name for p in (tmp_path / "report").iterdir()) == ["hook.json", "hook_emb0.npy", "status.json"]
    assert not (tmp_path / "escape.json").exists()


# ------------------------------------------------------------------------------------- the score
def test_the_score_follows_the_config_list_and_is_clamped(wiki, tmp_path):
    """A question the judge has no checks for scores 0 with a course-side message; the total never
    exceeds what the config's list allows, whatever the student side wrote."""
    spec = GradingSpec(**{**wiki.spec.__dict__, "questions": {"q1_hook": 2, "q9_unknown": 5}})
    release = Release(spec, wiki.student_files)
    out = tmp_path / "out"
    nb = _notebook(tmp_path / "blank.ipynb", "import os\nos.makedirs('_grading/out', exist_ok=True)\n"
                   "open('_grading/out/status.json', 'w').write('{\"cells\": {}, \"score\": 99}')")
    result = grade_one(nb, release, out, sandbox.choose_mode("auto"))
    assert [t["name"] for t in result["tests"]] == ["q1_hook", "q9_unknown"]
    assert result["score"] == 0 and all(0 <= t["score"] <= t["max_score"] for t in result["tests"])
    assert "no checks are defined" in result["tests"][1]["output"]
    assert json.loads((out / "results.json").read_text())["score"] == 0


def test_a_status_file_claiming_infrastructure_trouble_is_not_believed(wiki, tmp_path):
    nb = _notebook(tmp_path / "n.ipynb", "import json\n"
                   "open('_grading/out/status.json', 'w').write(json.dumps({'infrastructure': 'yes'}))")
    result = grade_one(nb, wiki, tmp_path / "out", sandbox.choose_mode("auto"))
    assert result["outcome"] == "graded" and result["score"] == 0


def test_a_student_side_that_never_started_is_retried_once(wiki, tmp_path, monkeypatch):
    calls = []
    real = sandbox.run_contained

    def flaky(mode, scratch, *args, **kwargs):
        calls.append(scratch)
        if len(calls) == 1:
            return "done", 75   # the driver's word: the kernel died before its first reply
        return real(mode, scratch, *args, **kwargs)
    monkeypatch.setattr(sandbox, "run_contained", flaky)
    nb = _notebook(tmp_path / "n.ipynb", "x = 1")
    result = grade_one(nb, wiki, tmp_path / "out", sandbox.choose_mode("auto"))
    assert len(calls) == 2 and result["outcome"] == "graded"
    assert "trying once more" in (tmp_path / "out" / "grading.log").read_text()


def test_twice_no_start_is_an_infrastructure_outcome_not_a_student_zero(wiki, tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "run_contained", lambda *a, **k: ("done", 75))
    result = grade_one(_notebook(tmp_path / "n.ipynb", "x = 1"), wiki, tmp_path / "out", "none")
    assert result["outcome"] == "infrastructure" and "a TA will regrade" in result["tests"][0]["output"]


@pytest.mark.slow
def test_grades_csv_and_curves(release, tmp_path, cfg):
    """Slow: reads the solution CSV of the session's full release (the fixture articles)."""
    out, _ = release
    csv_path = out / "wikipedia/solutions/mantis_embeddings.csv"
    curve = heldout_silhouettes(csv_path, epochs=cfg.epochs + 1)
    assert len(curve) == cfg.epochs + 1 and curve[-1] > curve[0] + 0.2
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / cfg.csv_name).write_bytes(csv_path.read_bytes())
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / cfg.csv_name).write_text("not,a,mantis,file\n")
    results = [{"submission": s, "outcome": "graded", "score": 1.0,
                "tests": [{"name": "q1_hook", "score": 1.0, "max_score": 2, "status": "failed", "output": ""}]}
               for s in ("a", "b", "c")]
    curves = separation_curves(results, tmp_path, cfg, cfg.variant("wikipedia"))
    assert set(curves) == {"a"}
    rows = (write_grades_csv(results, tmp_path / "grades.csv")).read_text().splitlines()
    assert rows[0] == "submission,q1_hook,total,outcome" and rows[1] == "a,1.0,1.0,graded"


def _zip_with(path, kind):
    """A submitted zip that must be refused before anything is unpacked."""
    nb = nbformat.writes(nbformat.v4.new_notebook())
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("lab.ipynb", nb)
        if kind == "bomb":          # 1 MB of zip that unpacks to 600 MB
            for k in range(6):
                z.writestr(f"zeros{k}.bin", b"\0" * (100 * 2**20))
        elif kind == "ratio":       # one file compressed more than 200 to 1
            z.writestr("zeros.bin", b"\0" * (20 * 2**20))
        elif kind == "entries":
            for k in range(2001):
                z.writestr(f"f/{k}.txt", "x")
        elif kind == "link":
            info = zipfile.ZipInfo("data")
            info.external_attr = (0o120777 << 16)
            z.writestr(info, "/etc/passwd")
        elif kind == "traversal":
            z.writestr("../../outside.txt", "x")
        elif kind == "absolute":
            z.writestr("/tmp/owned.txt", "x")
    return path


@pytest.mark.parametrize("kind, words", [("bomb", "would unpack to"), ("ratio", "compressed more than"),
                                         ("entries", "holds 2002 files"), ("link", "symbolic link"),
                                         ("traversal", "leaves the zip's folder"), ("absolute", "leaves the zip's folder")])
def test_a_hostile_zip_is_refused_before_anything_is_unpacked(wiki, tmp_path, kind, words):
    sub = _zip_with(tmp_path / "mine.zip", kind)
    with pytest.raises(InvalidSubmission, match=words) as e:
        stage(sub, tmp_path / "scratch", wiki)
    assert str(e.value).startswith("mine.zip: the zip ") and "\n" not in str(e.value)
    assert [p.name for p in (tmp_path / "scratch").iterdir()] == []          # nothing was unpacked
    assert not (tmp_path.parent / "outside.txt").exists()
