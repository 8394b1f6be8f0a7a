"""Where student code runs when it is graded: contained, unprivileged, one writable folder.

Each mode is one small module with the same few functions (works, inside, tmpdir, files, hold, prepare, command,
written, shared_memory, end, end_uid, describe), chosen by `choose_mode`, best first:
  bwrap  bwrap.py: bubblewrap's namespaces (PID, network, IPC, mount): only the system, Python and the scratch
         folder are visible, and every process dies with the run.
  user   user.py: namespaces refused (a root container such as Gradescope's): fresh uids per run, what any uid
         could read closed to others, nothing of the run's uids left when it ends; one run per /tmp at a time.
  none   none.py: no containment at all; only when the TA asks for it (--no-sandbox), and the report says so.
What the grader, contain.py and driver.py agree on (exit statuses, run.json, the drop to each uid, the files a
probe may send) is protocol.py; the uids a run is done under, where the grader is root, uids.py.

This module holds the one run loop every mode shares (`run_contained`). In bwrap and user mode, the first program
inside (contain.py) adds the layers an unprivileged process can put on itself, where this machine offers them
(`layers()`): seccomp (no IP sockets: the network is closed without a network namespace) and Landlock (read only
the system and Python, write only the scratch folder and /tmp: the mode's `files`). What was active is
returned with the run and recorded in results.json.

Two uids, where the grader is root (Gradescope's container, a TA's root shell): the driver runs as one and starts
the notebook's kernel as another, so nothing the notebook runs can signal, trace or read the driver (/proc of
another uid is closed), nor write what only the driver writes. The driver keeps the capabilities to start that
kernel and to end it (protocol.DRIVER_CAPS) and no others; the kernel has none.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

from . import bwrap, none, protocol, user  # noqa: F401 (protocol: the grader's name for it)
from .base import SandboxError, python_roots
from .uids import SANDBOX_UIDS, UID_CLAIMS, Uids, claim as claim_uids, processes as processes_of  # noqa: F401
# the grader's and the tests' names for what the modes hold
from .user import PROJECT, close_to_others, sysv_objects   # noqa: F401

_python_roots, bwrap_works = python_roots, bwrap.works

HERE = Path(__file__).resolve().parent
DRIVER_FILES = ("driver.py", "probe_kernel.py", "kernel_probes.py", "wire.py", "contain.py", "protocol.py")
MODES = {m.NAME: m for m in (bwrap, user, none)}


_probe_cache: dict[str, list[str]] = {}


def layers() -> list[str]:
    """The self-restriction layers contain.py can apply here (probed once, in this trusted process)."""
    if "layers" not in _probe_cache:
        from . import contain
        _probe_cache["layers"] = contain.available()
    return _probe_cache["layers"]


def describe(mode: str, applied: list[str]) -> str:
    """One line for results.json and the TA report: where student code ran and what held it."""
    return MODES[mode].describe(applied)


def _contain_argv(mode, inside: Path, applied: list[str]) -> list[str]:
    """contain.py's command line: the layers, and the folders Landlock leaves open (the mode's `files`)."""
    argv = [sys.executable, "-I", str(inside / "_grading" / "bin" / "contain.py"), "--layers", ",".join(applied)]
    ro, rw, unlisted = mode.files(inside)
    for flag, paths in (("--ro", ro), ("--rw", rw), ("--unlisted", unlisted)):
        for path in paths:
            argv += [flag, path]
    return argv + ["--"]


def choose_mode(requested: str | None = None) -> str:
    """`requested` ("auto", a mode, or $LAB8_SANDBOX when None): bwrap if it works here, else user
    (as root, with the user set up). Raises SandboxError when nothing can contain student code."""
    requested = requested or os.environ.get("LAB8_SANDBOX") or "auto"
    if requested not in ("auto", *MODES):
        raise SandboxError(f"sandbox {requested!r}: expected auto or one of {', '.join(MODES)}")
    if requested == "none":
        return "none"
    for name in ("bwrap", "user"):
        if requested in ("auto", name) and MODES[name].works():
            return name
    raise SandboxError("no sandbox for student code here: install bubblewrap (apt-get install bubblewrap), "
                       "or run as root (user mode: a fresh uid per run, util-linux's setpriv), or pass --no-sandbox "
                       "to grade uncontained")


def _kill_tree(popen) -> None:
    try:
        children = psutil.Process(popen.pid).children(recursive=True)
    except psutil.Error:
        children = []
    try:
        os.killpg(popen.pid, signal.SIGKILL)
    except OSError:
        pass
    for proc in children:
        try:
            proc.kill()
        except psutil.Error:
            pass
    popen.wait()


# The student's own folder under _grading: its TMPDIR (user mode). IPython's folder (IPYTHONDIR) is made
# there too, with its profile's folders, and is not the student's: nothing in it is read anyway (the kernel
# starts without configuration or startup files: probe_kernel.py), and under two uids nothing can be written.
STUDENT_FOLDERS = ("tmp",)
IPYTHON_FOLDERS = ("ipython/profile_default/startup", "ipython/profile_default/security", "ipython/profile_default/log",
                   "ipython/profile_default/pid")


def prepare_scratch(scratch: Path, uids: Uids | None) -> None:
    """Give the scratch folder to whoever runs inside; its parent stays closed to listing. With a driver
    of its own uid: the scratch folder is root's, sticky, writable by the student's group (the student
    cannot move what is not the student's), _grading and what is in it (bin/, run.json, IPython's folder)
    root's and read-only, but the student's tmp/."""
    os.chmod(scratch.parent, 0o711)
    if uids is None:
        return
    for folder, dirs, files in os.walk(scratch):
        for name in [folder, *(os.path.join(folder, f) for f in dirs + files)]:
            os.lchown(name, uids.student, uids.group)
            if uids.driver is not None and not os.path.islink(name):
                mode = os.lstat(name).st_mode
                os.chmod(name, (mode | 0o2070) & 0o7770 if os.path.isdir(name) else (mode | 0o060) & 0o7770)
    if uids.driver is None:
        return
    grading = scratch / "_grading"
    for folder, dirs, files in os.walk(grading):
        for name in [folder, *(os.path.join(folder, f) for f in dirs + files)]:
            os.lchown(name, 0, 0)
            os.chmod(name, 0o755 if os.path.isdir(name) else 0o644)
    for name in STUDENT_FOLDERS:
        (grading / name).mkdir(exist_ok=True)
        os.chown(grading / name, uids.student, uids.group)
        os.chmod(grading / name, 0o2770)
    os.chown(scratch, 0, uids.group)
    os.chmod(scratch, 0o3770)


MAX_PROCESSES = 512       # a fork bomb stops here (counted per uid: the sandbox's own)
MAX_FILE_BYTES = 4 << 30  # no single file larger than this
# What one run may write in all (its scratch folder; in user mode also its files in the machine's /tmp, /var/tmp and
# /dev/shm; under bubblewrap its own /tmp is a tmpfs of this size), and in how many files: a run past either is
# stopped (state "disk"), measured every DISK_EVERY seconds (its memory too: memory_used). An honest run writes
# tens of MB.
MAX_DISK_BYTES, MAX_DISK_FILES, DISK_EVERY = 4 << 30, 200_000, 2.0


def disk_used(folders) -> tuple[int, int]:
    """(bytes allocated, entries) under folders (files and folders, not following links), stopping past
    MAX_DISK_FILES entries."""
    used = count = 0
    for top in folders:
        if os.path.islink(top) or not os.path.isdir(top):
            try:
                used, count = used + os.lstat(top).st_blocks * 512, count + 1
            except OSError:
                pass
            continue
        for folder, dirs, files in os.walk(top):
            for name in dirs + files:
                try:
                    used += os.lstat(os.path.join(folder, name)).st_blocks * 512
                except OSError:
                    pass
                count += 1
            if count > MAX_DISK_FILES:
                return used, count
    return used, count


def memory_limit(share: int = 1) -> int:
    """Bytes of data one student side may map: 60 % of this machine's memory, split between the runs
    that share it, so a notebook that allocates without end fails in its own cell, not the machine."""
    return int(psutil.virtual_memory().total * 0.6 / max(1, share))


def memory_used(uids, popen, m, limit: int) -> int:
    """Bytes of memory the run holds: every process it started, wherever it was reparented (its uids' processes;
    without uids of its own, the run's process tree), and the shared memory its uids hold outside any process (the
    mode's `shared_memory`). RSS first (cheap); where that passes the limit, the proportional set size, so pages
    that forked workers share with their parent count once."""
    if uids is not None:
        procs = [p for uid in uids.all() for p in processes_of(uid)]
    else:
        try:
            procs = [psutil.Process(popen.pid), *psutil.Process(popen.pid).children(recursive=True)]
        except psutil.Error:
            procs = []

    def total(read) -> int:
        found = 0
        for proc in procs:
            try:
                found += read(proc)
            except psutil.Error:
                pass
        return found
    shared = m.shared_memory(uids)
    rss = total(lambda proc: proc.memory_info().rss) + shared
    return rss if rss <= limit else total(lambda proc: proc.memory_full_info().pss) + shared


def _limits(memory: int | None) -> list[str]:
    """util-linux's prlimit in front of the command (a preexec_fn is unsafe with grading threads)."""
    limits = ["prlimit", f"--nproc={MAX_PROCESSES}", f"--fsize={MAX_FILE_BYTES}"]
    return limits + ([f"--data={memory}"] if memory else []) + ["--"]


def run_contained(mode: str, scratch: Path, argv: list[str], env: dict, timeout: float, log_path: Path,
                  stop=None, private=(), memory: int | None = None, driver: bool = False, feed: bytes | None = None,
                  report=None) -> tuple[str, int | None]:
    """Run argv (a Python command line) contained, with cwd scratch; returns ("done", "timeout", "disk" (it wrote
    more than MAX_DISK_BYTES or MAX_DISK_FILES), "memory" (its processes and shared memory together held more than
    `memory`: memory_used) or "cancelled", its exit status when done).
    `private`: folders closed to the sandbox user while it runs (user mode). argv is given the scratch
    folder's path as the process inside sees it. `driver`: argv is driver.py, which starts the student's
    code itself: as root, it runs under a uid of its own and starts the kernel under the student's (Uids).
    `feed`: bytes for the process's stdin (the probes' inputs). `report(header, blobs)` is called for every
    message the process sends on the pipe named by $LAB8_REPORT_FD (wire.py): the driver's report, which
    nothing else inside can write."""
    m = MODES[mode]
    # the run's time starts when it has the machine: waiting for another grading's run is not its time
    with m.hold(), (claim_uids(driver, m.end_uid) if m.CONTAINED and os.geteuid() == 0
                    else contextlib.nullcontext()) as ids:
        return _run_as(ids, m, scratch, argv, env, timeout, log_path, stop, private, memory, feed, report)


def _run_as(uids, m, scratch, argv, env, timeout, log_path, stop, private, memory, feed, report):
    inside = m.inside(scratch)
    _install_bin(scratch)
    if m.CONTAINED:   # contain.py first: it puts the layers on, then becomes argv
        argv = _contain_argv(m, inside, layers()) + list(argv)
    argv = [str(a).replace("{scratch}", str(inside)) for a in argv]
    base_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(inside),
                "USER": "student", "LOGNAME": "student",
                "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
                "TMPDIR": m.tmpdir(inside),
                "IPYTHONDIR": str(inside / "_grading" / "ipython"), "JUPYTER_PLATFORM_DIRS": "1",
                # the notebook's picture cells see it and skip work nothing is judged on
                "LAB8_GRADING": "1", **(uids.env() if uids else {}), **env}
    for name in STUDENT_FOLDERS + IPYTHON_FOLDERS:
        (scratch / "_grading" / name).mkdir(parents=True, exist_ok=True)
    report_pipe = os.pipe() if report is not None else None
    if report_pipe:
        base_env["LAB8_REPORT_FD"] = str(report_pipe[1])
    prepare_scratch(scratch, uids)   # handed over only now: the run holds its uids
    m.prepare(private)
    cmd, popen_env = m.command(scratch, argv, base_env, uids)
    with open(log_path, "ab") as log:
        deadline = time.monotonic() + timeout
        try:
            popen = subprocess.Popen(_limits(memory) + cmd if m.CONTAINED else cmd, cwd=scratch, env=popen_env,
                                     stdin=subprocess.DEVNULL if feed is None else subprocess.PIPE, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     pass_fds=report_pipe[1:] if report_pipe else ())
        finally:
            if report_pipe:
                os.close(report_pipe[1])
        threads = _channels(popen, feed, report_pipe[0] if report_pipe else None, report)
        state, measured = "done", time.monotonic()
        try:
            while popen.poll() is None:
                if stop is not None and stop.is_set():
                    state = "cancelled"
                    break
                if time.monotonic() >= deadline:
                    state = "timeout"
                    break
                if m.CONTAINED and time.monotonic() - measured >= DISK_EVERY:
                    used, count = disk_used([scratch, *m.written(uids)])
                    if used > MAX_DISK_BYTES or count > MAX_DISK_FILES:
                        state = "disk"
                        break
                    if memory and memory_used(uids, popen, m, memory) > memory:
                        state = "memory"
                        break
                    measured = time.monotonic()
                try:
                    popen.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            returncode = popen.poll() if state == "done" else None
            _kill_tree(popen)   # under bwrap this ends its PID namespace, and so every process in it
            m.end(uids)
            for thread in threads:
                thread.join(30)
    return state, returncode


MAX_REPORT_FRAME = 3 << 30


def _channels(popen, feed: bytes | None, report_fd: int | None, report) -> list:
    """Threads that write `feed` to the process's stdin and read its report pipe while it runs (a pipe holds
    64 KiB: neither side may wait for the other to finish). The report's messages go to report(header, blobs)
    in order; whatever follows a message that cannot be read is drained and dropped."""
    import threading
    from . import wire
    threads = []
    if feed is not None:
        def write():
            try:
                popen.stdin.write(feed)
            except (BrokenPipeError, OSError):
                pass
            finally:
                try:
                    popen.stdin.close()
                except OSError:
                    pass
        threads.append(threading.Thread(target=write, daemon=True))
    if report_fd is not None:
        def read():
            with os.fdopen(report_fd, "rb") as stream:
                for header, blobs in wire.read_frames(stream, MAX_REPORT_FRAME):
                    try:
                        report(header, blobs)
                    except Exception:   # a bug of ours must not leave the driver blocked on a full pipe
                        import traceback
                        traceback.print_exc()
                while stream.read(1 << 16):
                    pass
        threads.append(threading.Thread(target=read, daemon=True))
    for thread in threads:
        thread.start()
    return threads


def _memory_cgroup() -> Path | None:
    """This process's memory cgroup folder (v1's memory controller or v2's unified tree), if visible."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, names, path = line.split(":", 2)
        if "memory" in names.split(","):
            return Path("/sys/fs/cgroup/memory") / path.lstrip("/")
        if names == "" and Path("/sys/fs/cgroup/cgroup.controllers").is_file():
            return Path("/sys/fs/cgroup") / path.lstrip("/")
    return None


def memory_counters(folder: Path | None = None) -> dict:
    """{"oom_kills": n, "peak": bytes or None, "limit": bytes or None} of the memory cgroup grading runs in
    (or of `folder`, a cgroup's): how the grader sees, from outside the notebook, that the out-of-memory
    killer ended a process of it (a container's limit — Gradescope's default is 768 MB), rather than the
    notebook ending itself."""
    folder, found = folder or _memory_cgroup(), {"oom_kills": 0, "peak": None, "limit": None}
    if folder is None:
        return found

    def read(*names):
        for name in names:
            try:
                return (folder / name).read_text()
            except OSError:
                continue
        return ""
    for line in read("memory.oom_control", "memory.events").splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill" and value.strip().isdigit():
            found["oom_kills"] = int(value)
    for key, names in (("peak", ("memory.max_usage_in_bytes", "memory.peak")),
                       ("limit", ("memory.limit_in_bytes", "memory.max"))):
        text = read(*names).strip()
        found[key] = int(text) if text.isdigit() and int(text) < 2**60 else None
    return found


def _install_bin(scratch: Path) -> None:
    """The student side's own programs (contain.py, the driver, the kernel probes), copied into scratch:
    the only place the sandbox's user can read them from."""
    dest = scratch / "_grading" / "bin"
    dest.mkdir(parents=True, exist_ok=True)
    for name in DRIVER_FILES:
        shutil.copyfile(HERE / name, dest / name)


def driver_argv(scratch: Path) -> list[str]:
    """The student-side command: the driver (run_contained copies it into the scratch folder)."""
    return [sys.executable, "-I", "{scratch}/_grading/bin/driver.py", "{scratch}"]
