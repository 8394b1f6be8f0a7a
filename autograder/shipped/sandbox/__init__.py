"""Where student code runs when it is graded: contained, unprivileged, one writable folder.

Modes (chosen by `choose_mode`, best first):
  bwrap  bubblewrap: its own PID, network, IPC and UTS namespaces, so every process it starts dies
         with it and nothing is reachable over the network; the filesystem it sees is the system's
         programs and the Python installation read-only, a private /tmp, and the scratch folder as the
         only writable place: no release, checks, other submissions or output folders. Started by
         root, the process inside drops to an unprivileged uid before anything else runs.
  user   namespaces refused (a root container such as Gradescope's): the run is done under a uid of its
         own, fresh for this run (no passwd entry), the folders the grade depends on are closed to it
         (mode 700), and every process, file in /tmp or /dev/shm and System V object of that uid is gone
         before the judge looks at anything. Runs that share a /tmp go one at a time (_one_run_per_tmp).
  none   no containment at all; only when the TA asks for it (--no-sandbox), and the report says so.

In bwrap and user mode, the first program inside (contain.py) adds the layers an unprivileged process can
put on itself, where this machine offers them (`layers()`): seccomp (no IP sockets: the network is closed
without a network namespace) and Landlock (read only the system and Python, write only the scratch folder
and /tmp). What was active is returned with the run and recorded in results.json.

Two uids (`Uids`), where the grader is root (Gradescope's container, a TA's root shell): the driver runs as
one and starts the notebook's kernel as another, so nothing the notebook runs can signal, trace or read
the driver (/proc of another uid is closed), nor write what only the driver writes. The driver keeps the
capabilities to start that kernel and to end it (setuid, setgid, kill) and no others; the kernel has
none. Both are drawn fresh for every run and claimed (`claim_uids`) before its scratch folder, root's
until then, is handed to them: a run cannot find or write the next one's files, in bubblewrap or user
mode, with several grading processes on one machine. Unprivileged bubblewrap maps one uid only, so
without root the two sides share it (recorded).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import psutil
from replab.errors import LabError

# Started by root, a run's student code gets a uid of its own, fresh for every run (bubblewrap and user mode
# alike; no passwd entry is needed): the process limit counts per uid, so two runs at once never share it,
# nor any file, process or shared memory they could both reach. The driver's uid is the student's plus
# DRIVER_OFFSET; each uid is its own group, and the driver is also in the student's.
SANDBOX_UIDS = range(200_000, 1_200_000)
DRIVER_OFFSET = 1_000_000
# root's (700): one lock file per student uid a run holds. Not in /tmp: the trial's containers each have a /tmp of
# their own but share this machine's uids
UID_CLAIMS = "/run/lab8-uids" if os.path.isdir("/run") else "/tmp/lab8-uids"
# What the driver keeps (ambient, so they survive its exec): start the kernel as the student's uid
# (setuid, setgid; setpcap to empty the kernel's bounding set) and end it (kill). All in Docker's defaults.
DRIVER_CAPS = ("setuid", "setgid", "setpcap", "kill")
HERE = Path(__file__).resolve().parent
DRIVER_FILES = ("driver.py", "probe_kernel.py", "kernel_probes.py", "wire.py", "contain.py")
MODES = ("bwrap", "user", "none")


class SandboxError(LabError, RuntimeError):
    """No way to contain student code here; the message says what to install or pass."""


def _python_roots() -> list[str]:
    """Folders the interpreter and its packages live in (read-only inside the sandbox)."""
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    roots |= {p for k, p in sysconfig.get_paths().items() if k in ("stdlib", "platstdlib", "purelib", "platlib")}
    roots = sorted(os.path.realpath(r) for r in roots if os.path.isdir(r))
    return [r for r in roots if not any(r != o and r.startswith(o + os.sep) for o in roots)]


def _system_binds() -> list[str]:
    args = []
    for top in ("/usr", "/etc"):
        args += ["--ro-bind", top, top]
    for link in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        if os.path.islink(link):
            args += ["--symlink", os.readlink(link), link]
        elif os.path.isdir(link):
            args += ["--ro-bind", link, link]
    made = set()
    for root in _python_roots():
        if root.startswith(("/usr/", "/etc/")):
            continue
        # folders bubblewrap makes on the way are root-only unless given open permissions first
        for parent in reversed(Path(root).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", root, root]
    return args


INSIDE = "/work"       # where the scratch folder appears under bubblewrap (a top-level mount point:
                        # folders bubblewrap makes on the way to a deeper one are closed to non-root)


def bwrap_command(scratch: Path, inner: list[str], env: dict, drop: list[str] | None = None) -> list[str]:
    scratch = str(Path(scratch).resolve())
    cmd = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv", *_system_binds(),
           "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp",   # a private /tmp anyone may write
           "--bind", scratch, INSIDE, "--chdir", INSIDE]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    if os.geteuid() == 0:
        # root's own namespaces need no user namespace; the process inside drops to an unprivileged uid
        # (`drop`: Uids.command) before it runs anything
        drop = drop or Uids(SANDBOX_UIDS[0], SANDBOX_UIDS[0]).command(driver=False)
        return cmd + ["--", *drop, *inner]
    return cmd[:1] + ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"] + cmd[1:] + ["--", *inner]


_probe_cache: dict[str, bool] = {}


def bwrap_works() -> bool:
    """Whether bubblewrap can make its namespaces here (Docker-style root containers refuse it)."""
    if "bwrap" not in _probe_cache:
        ok = False
        if shutil.which("bwrap"):
            tmp = Path(os.environ.get("TMPDIR", "/tmp"))
            cmd = bwrap_command(tmp, ["true"], {"PATH": "/usr/bin:/bin"})
            try:
                ok = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=20).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
        _probe_cache["bwrap"] = ok
    return _probe_cache["bwrap"]


def layers() -> list[str]:
    """The self-restriction layers contain.py can apply here (probed once, in this trusted process)."""
    if "layers" not in _probe_cache:
        from . import contain
        _probe_cache["layers"] = contain.available()
    return _probe_cache["layers"]


def describe(mode: str, applied: list[str]) -> str:
    """One line for results.json and the TA report: where student code ran and what held it."""
    two = os.geteuid() == 0
    base = {"bwrap": "bubblewrap (own PID, network and mount namespaces; " + (
                "the kernel and the driver under two unprivileged uids)" if two else
                "the kernel and the driver share one unprivileged uid: bubblewrap without root maps only one)"),
            "user": "a uid of its own for this run's kernel and another for its driver (no namespaces: a root "
                    "container)",
            "none": "NOT contained (--no-sandbox)"}[mode]
    extra = {"seccomp": "seccomp: no IP sockets", "landlock": "Landlock: reads the system and Python only, "
             "writes the scratch folder and /tmp only" + (" (/tmp not listable: the machine's own)" if mode == "user"
                                                           else "")}
    missing = ["Landlock: not on this host (files are kept from the student side by their owners and modes alone)"] \
        if mode == "user" and "landlock" not in applied else []
    return "; ".join([base, *(extra[a] for a in applied), *missing])


def _contain_argv(mode: str, inside: Path, applied: list[str]) -> list[str]:
    """contain.py's command line: the layers, and the folders Landlock leaves open."""
    argv = [sys.executable, "-I", str(inside / "_grading" / "bin" / "contain.py"), "--layers", ",".join(applied)]
    if mode == "bwrap":    # bubblewrap already shows only the system, Python and /work, and a /tmp of its own
        ro, rw, unlisted = ["/"], [str(inside), "/tmp", "/dev"], []
    else:   # /tmp is the machine's: a file the notebook names there works, what others left cannot be listed;
            # /dev/shm (POSIX shared memory: DataLoader workers, multiprocessing) is written by name too. What a
            # run leaves in either is its uid's, mode 660 at most, and goes with it (remove_left)
        ro = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/proc", "/sys", "/dev", *_python_roots()]
        rw, unlisted = [str(inside), "/dev/null", "/dev/zero"], ["/tmp", "/dev/shm"]
    for path in ro:
        argv += ["--ro", path]
    for path in rw:
        argv += ["--rw", path]
    for path in unlisted:
        argv += ["--unlisted", path]
    return argv + ["--"]


PROJECT = HERE.parents[2]   # the checkout (or the installation) this grader runs from


def _open_to_others(folder: Path) -> bool:
    """Whether a uid that is neither folder's owner nor in its group can reach what is in it: every folder above
    it passable by others, and it listable or passable by them."""
    if not folder.stat().st_mode & 0o005:
        return False
    return all(parent.stat().st_mode & 0o001 for parent in folder.parents)


def close_to_others(folders=()) -> list[str]:
    """User mode's files rule, wherever they live (/tmp included: Landlock lets the student side read a file
    there by name, and a host may have no Landlock at all): the project's checkout and each of `folders` (a
    release, the submissions' folders) is closed to every uid but its owner's and group's (the run's uids are
    fresh: in no group) where any uid could reach it. Returns a line per folder it closed; raises SandboxError,
    naming the folder, where one cannot be closed (student code would need it, or chmod fails)."""
    lines, pythons = [], [Path(r) for r in _python_roots()]
    for folder in dict.fromkeys([PROJECT, *map(Path, folders)]):
        folder = folder.resolve()
        if not folder.is_dir() or not _open_to_others(folder):
            continue
        if any(folder == p or p in folder.parents for p in pythons):   # in an installation: read by design
            continue
        inner = [p for p in pythons if folder in p.parents]
        if inner:
            raise SandboxError(f"user mode: {folder} holds the Python student code runs with ({inner[0]}) and any "
                               "user can read it: use a Python outside it, or grade under bubblewrap")
        mode = folder.stat().st_mode & 0o7777
        try:
            os.chmod(folder, mode & ~0o007)
        except OSError as e:
            raise SandboxError(f"user mode: {folder} is readable by any user and could not be closed "
                               f"({e.strerror}); run `chmod o-rwx {folder}`, or grade under bubblewrap") from None
        lines.append(f"user mode: closed {folder} to other users (mode {mode:o} → {mode & ~0o007:o}): student "
                     "code runs under uids of its own")
    return lines


def choose_mode(requested: str | None = None) -> str:
    """`requested` ("auto", a mode, or $LAB8_SANDBOX when None): bwrap if it works here, else user
    (as root, with the user set up). Raises SandboxError when nothing can contain student code."""
    requested = requested or os.environ.get("LAB8_SANDBOX") or "auto"
    if requested not in ("auto", *MODES):
        raise SandboxError(f"sandbox {requested!r}: expected auto or one of {', '.join(MODES)}")
    if requested == "none":
        return "none"
    if requested in ("auto", "bwrap") and bwrap_works():
        return "bwrap"
    if requested in ("auto", "user") and os.geteuid() == 0 and shutil.which("setpriv"):
        return "user"
    raise SandboxError("no sandbox for student code here: install bubblewrap (apt-get install bubblewrap), "
                       "or run as root (user mode: a fresh uid per run, util-linux's setpriv), or pass --no-sandbox "
                       "to grade uncontained")


def _user_processes(uid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["uids"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid and proc.pid != os.getpid():
                found.append(proc)
        except psutil.Error:
            continue
    return found


def kill_user(uid: int) -> None:
    """SIGKILL every process of uid, again and again until none is left (a dying one may fork)."""
    for _ in range(50):
        procs = _user_processes(uid)
        if not procs:
            return
        for proc in procs:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(procs, timeout=2)


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


@dataclass(frozen=True)
class Uids:
    """Who runs a contained run, when the grader is root: the student's uid and group; the driver's uid
    and group, or None when the command is not the driver (it then runs as the student)."""
    student: int
    group: int
    driver: int | None = None
    driver_group: int | None = None

    @classmethod
    def fresh(cls, driver: bool) -> Uids:
        uid = secrets.choice(SANDBOX_UIDS)
        return cls(uid, uid, *((uid + DRIVER_OFFSET,) * 2 if driver else (None, None)))

    def all(self) -> list[int]:
        return [u for u in (self.student, self.driver) if u is not None]

    def command(self, driver: bool = True) -> list[str]:
        """setpriv's drop to the driver (with DRIVER_CAPS, in the student's group) or to the student (none)."""
        if driver and self.driver is not None:
            caps = ",".join("+" + c for c in DRIVER_CAPS)
            return ["setpriv", f"--reuid={self.driver}", f"--regid={self.driver_group}", f"--groups={self.group}",
                    f"--inh-caps=-all,{caps}", f"--ambient-caps=-all,{caps}", f"--bounding-set=-all,{caps}",
                    "--no-new-privs", "--"]
        return ["setpriv", f"--reuid={self.student}", f"--regid={self.group}", "--clear-groups", "--inh-caps=-all",
                "--bounding-set=-all", "--no-new-privs", "--"]

    def env(self) -> dict:
        """What the driver needs to start the kernel as the student (nothing when there is no driver)."""
        return {"LAB8_STUDENT_UID": str(self.student), "LAB8_STUDENT_GID": str(self.group)} if self.driver else {}


@contextlib.contextmanager
def claim_uids(mode: str, driver: bool):
    """Fresh uids for one run, held until it is over and nothing of them is left (None: no uid of ours to give:
    not root, or no containment). A uid is this run's once its lock file under UID_CLAIMS is held and no
    process or file of it is found: two grading processes on one machine never draw the same one."""
    if os.geteuid() != 0 or mode not in ("bwrap", "user"):
        yield None     # unprivileged bubblewrap maps one uid: ours (or no containment at all)
        return
    os.makedirs(UID_CLAIMS, mode=0o700, exist_ok=True)
    folder = os.lstat(UID_CLAIMS)
    if not os.path.isdir(UID_CLAIMS) or os.path.islink(UID_CLAIMS) or folder.st_uid != 0 or folder.st_mode & 0o077:
        raise SandboxError(f"{UID_CLAIMS}: not a folder only root can use (owner {folder.st_uid}, mode "
                           f"{folder.st_mode & 0o777:o}); remove it")
    while True:
        uids = Uids.fresh(driver)
        fd = os.open(f"{UID_CLAIMS}/{uids.student}", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        if any(_user_processes(u) for u in uids.all()):
            os.close(fd)
            continue
        try:
            yield uids
        finally:
            if mode == "user":   # no PID or IPC namespace: every process and trace of the run's uids, wherever it went
                for uid in uids.all():
                    kill_user(uid)
                    remove_left(uid)
            os.unlink(f"{UID_CLAIMS}/{uids.student}")
            os.close(fd)
        return


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


def memory_limit(share: int = 1) -> int:
    """Bytes of data one student side may map: 60 % of this machine's memory, split between the runs
    that share it, so a notebook that allocates without end fails in its own cell, not the machine."""
    return int(psutil.virtual_memory().total * 0.6 / max(1, share))


def _limits(memory: int | None) -> list[str]:
    """util-linux's prlimit in front of the command (a preexec_fn is unsafe with grading threads)."""
    limits = ["prlimit", f"--nproc={MAX_PROCESSES}", f"--fsize={MAX_FILE_BYTES}"]
    return limits + ([f"--data={memory}"] if memory else []) + ["--"]


def run_contained(mode: str, scratch: Path, argv: list[str], env: dict, timeout: float, log_path: Path,
                  stop=None, private=(), memory: int | None = None, driver: bool = False, feed: bytes | None = None,
                  report=None) -> tuple[str, int | None]:
    """Run argv (a Python command line) contained, with cwd scratch; returns ("done", "timeout" or
    "cancelled", its exit status when done).
    `private`: folders closed to the sandbox user while it runs (user mode). argv is given the scratch
    folder's path as the process inside sees it. `driver`: argv is driver.py, which starts the student's
    code itself: as root, it runs under a uid of its own and starts the kernel under the student's (Uids).
    `feed`: bytes for the process's stdin (the probes' inputs). `report(header, blobs)` is called for every
    message the process sends on the pipe named by $LAB8_REPORT_FD (wire.py): the driver's report, which
    nothing else inside can write."""
    # the run's time starts when it has the machine: waiting for another grading's run is not its time
    with _one_run_per_tmp(mode), claim_uids(mode, driver) as uids:
        return _run_as(uids, mode, scratch, argv, env, timeout, log_path, stop, private, memory, feed, report)


def _run_as(uids, mode, scratch, argv, env, timeout, log_path, stop, private, memory, feed, report):
    inside = Path(INSIDE) if mode == "bwrap" else scratch
    _install_bin(scratch)
    if mode != "none":   # contain.py first: it puts the layers on, then becomes argv
        argv = _contain_argv(mode, inside, layers()) + list(argv)
    argv = [str(a).replace("{scratch}", str(inside)) for a in argv]
    base_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "HOME": str(inside),
                "USER": "student", "LOGNAME": "student",
                "MPLBACKEND": "Agg", "PYTHONDONTWRITEBYTECODE": "1",
                "TMPDIR": "/tmp" if mode == "bwrap" else str(inside / "_grading" / "tmp"),
                "IPYTHONDIR": str(inside / "_grading" / "ipython"), "JUPYTER_PLATFORM_DIRS": "1",
                # the notebook's picture cells see it and skip work nothing is judged on
                "LAB8_GRADING": "1", **(uids.env() if uids else {}), **env}
    for name in STUDENT_FOLDERS + IPYTHON_FOLDERS:
        (scratch / "_grading" / name).mkdir(parents=True, exist_ok=True)
    report_pipe = os.pipe() if report is not None else None
    if report_pipe:
        base_env["LAB8_REPORT_FD"] = str(report_pipe[1])
    prepare_scratch(scratch, uids)   # handed over only now: the run holds its uids
    if mode == "bwrap":
        # kill(-1) is confined here: the run's own PID namespace
        cmd = bwrap_command(scratch, argv, {**base_env, "LAB8_SANDBOX_PID_NAMESPACE": "1"},
                            uids.command() if uids else None)
        popen_env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    elif mode == "user":
        close_to_others()   # the checkout: closed before any run, wherever it lives (a no-op once closed)
        for folder in private:
            os.chmod(folder, 0o700)
        cmd, popen_env = uids.command() + argv, base_env
    else:
        cmd, popen_env = argv, {**os.environ, **base_env}
    with open(log_path, "ab") as log:
        deadline = time.monotonic() + timeout
        try:
            popen = subprocess.Popen(_limits(memory) + cmd if mode != "none" else cmd, cwd=scratch, env=popen_env,
                                     stdin=subprocess.DEVNULL if feed is None else subprocess.PIPE, stdout=log,
                                     stderr=subprocess.STDOUT, start_new_session=True,
                                     pass_fds=report_pipe[1:] if report_pipe else ())
        finally:
            if report_pipe:
                os.close(report_pipe[1])
        threads = _channels(popen, feed, report_pipe[0] if report_pipe else None, report)
        state = "done"
        try:
            while popen.poll() is None:
                if stop is not None and stop.is_set():
                    state = "cancelled"
                    break
                if time.monotonic() >= deadline:
                    state = "timeout"
                    break
                try:
                    popen.wait(timeout=0.2)
                except subprocess.TimeoutExpired:
                    pass
        finally:
            returncode = popen.poll() if state == "done" else None
            _kill_tree(popen)   # under bwrap this ends its PID namespace, and so every process in it
            if mode == "user":   # no PID namespace: every process of the run's uids, wherever it went
                for uid in uids.all():
                    kill_user(uid)
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


USER_LOCK = "/tmp/lab8-sandbox-user.lock"


@contextlib.contextmanager
def _one_run_per_tmp(mode: str):
    """In user mode, one run at a time per /tmp: the notebook's /tmp is the machine's (no mount namespace), and
    two notebooks that name the same file there would collide (the second may not open the first's). The
    lock lives in that /tmp, so runs in separate containers (Gradescope's, or the trial's: each has a /tmp
    of its own) do not wait for each other. Each run still has uids of its own (claim_uids)."""
    if mode != "user":
        yield
        return
    fd = os.open(USER_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)   # root's: no run can hold it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue")   # the machine's, in a root container
SYSV_IPC = {"shm": "-m", "msg": "-q", "sem": "-s"}   # /proc/sysvipc/<kind> → ipcrm's option


def remove_left(uid: int) -> None:
    """What a run's uid left on the machine goes with the run (in a root container /tmp and /dev/shm are
    shared by every process, so they cannot be private mounts): its files in the shared folders, and its
    System V shared memory, queues and semaphores, which would otherwise outlive every process."""
    for top in SHARED_FOLDERS:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass
    for kind, option in SYSV_IPC.items():
        for key in sysv_objects(kind, uid):
            subprocess.run(["ipcrm", option, key], capture_output=True)


def sysv_objects(kind: str, uid: int) -> list[str]:
    """The ids of the System V objects (`kind`: shm, msg or sem) that uid owns."""
    try:
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
    except OSError:
        return []
    head = lines[0].split() if lines else []
    if len(head) < 2 or not head[1].endswith("id") or "uid" not in head:   # key, shmid (msqid, semid), …, uid
        return []
    at, owner = 1, head.index("uid")
    return [row.split()[at] for row in lines[1:] if len(row.split()) > owner and row.split()[owner] == str(uid)]


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
