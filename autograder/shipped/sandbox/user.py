"""Mode user: namespaces refused (a root container such as Gradescope's). The run is done under uids of its own,
fresh for this run (uids.py; no passwd entry), with the folders the grade depends on closed to them (mode 700) and
whatever any uid could read closed to others (`close_to_others`: the checkout, a release, the submissions'
folders, wherever they live). When the run ends every process of its uids, their files in the machine's shared
folders and their System V objects are gone (`end_uid`), before the judge looks at anything. Runs that share a /tmp
go one at a time (`hold`).

The same few functions in every mode's module (bwrap.py, user.py, none.py): works, inside, tmpdir, files, hold,
prepare, command, written, shared_memory, end, end_uid, describe."""
from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import subprocess
from pathlib import Path

from .base import SandboxError, python_roots
from .uids import Uids, kill_all

NAME = "user"
CONTAINED = True
PROJECT = Path(__file__).resolve().parents[3]   # the checkout (or the installation) this grader runs from
USER_LOCK = "/tmp/lab8-sandbox-user.lock"
SHARED_FOLDERS = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue")   # the machine's, in a root container
SYSV_IPC = {"shm": "-m", "msg": "-q", "sem": "-s"}   # /proc/sysvipc/<kind> → ipcrm's option


def setup() -> None:
    """Once, as root, where the grader will run (the zip's setup.sh): let the run's uids reach the interpreter
    (each run draws fresh ones, no passwd entry: nothing to create): search, not list, permission on the folders
    above the Python installation."""
    for root in python_roots():
        for folder in [Path(root), *Path(root).parents]:
            mode = folder.stat().st_mode
            if not mode & 0o001:
                os.chmod(folder, mode | 0o001)


def works() -> bool:
    return os.geteuid() == 0 and shutil.which("setpriv") is not None


def inside(scratch: Path) -> Path:
    return scratch


def tmpdir(inside: Path) -> str:
    return str(inside / "_grading" / "tmp")


def files(inside: Path) -> tuple[list[str], list[str], list[str]]:
    """(read-only, read-write, writable-but-not-listable) for contain.py's Landlock. /tmp is the machine's: a file
    the notebook names there works, what others left cannot be listed; /dev/shm (POSIX shared memory: DataLoader
    workers, multiprocessing) is written by name too. What a run leaves in either is its uid's, mode 660 at most,
    and goes with it (end_uid)."""
    ro = ["/usr", "/etc", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/proc", "/sys", "/dev", *python_roots()]
    return ro, [str(inside), "/dev/null", "/dev/zero"], ["/tmp", "/dev/shm"]


@contextlib.contextmanager
def hold():
    """One run at a time per /tmp: the notebook's /tmp is the machine's (no mount namespace), and two notebooks that
    name the same file there would collide (the second may not open the first's). The lock lives in that /tmp, so
    runs in separate containers (Gradescope's, or the trial's: each has a /tmp of its own) do not wait for each
    other."""
    fd = os.open(USER_LOCK, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)   # root's: no run can hold it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def prepare(private) -> None:
    close_to_others()   # the checkout: closed before any run, wherever it lives (a no-op once closed)
    for folder in private:
        os.chmod(folder, 0o700)


def command(scratch: Path, argv: list[str], env: dict, uids: Uids) -> tuple[list[str], dict]:
    return uids.command() + argv, env


def left_by(owners, tops=SHARED_FOLDERS) -> list[os.DirEntry]:
    """The entries directly in the machine's shared folders (`tops`) that one of the uids `owners` made."""
    found = []
    for top in tops:
        try:
            entries = list(os.scandir(top))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid in owners:
                    found.append(entry)
            except OSError:
                pass
    return found


def sysv_rows(kind: str) -> list[dict[str, str]]:
    """/proc/sysvipc/<kind> (shm, msg or sem) as rows keyed by its header; the object's id is under "id" (the
    header says shmid, msqid or semid)."""
    try:
        lines = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
    except OSError:
        return []
    head = lines[0].split() if lines else []
    if len(head) < 2 or not head[1].endswith("id") or "uid" not in head:   # key, shmid (msqid, semid), …, uid
        return []
    head[1] = "id"
    return [dict(zip(head, row.split())) for row in lines[1:] if len(row.split()) >= len(head)]


def sysv_objects(kind: str, uid: int) -> list[str]:
    """The ids of the System V objects (`kind`: shm, msg or sem) that uid owns."""
    return [row["id"] for row in sysv_rows(kind) if row["uid"] == str(uid)]


def written(uids: Uids | None) -> list[str]:
    """What the run's uids wrote in the machine's shared folders (counted against sandbox.MAX_DISK_BYTES)."""
    return [entry.path for entry in left_by(uids.all())] if uids else []


def shared_memory(uids: Uids | None) -> int:
    """Bytes its uids hold in the machine's /dev/shm and in System V segments, which outlive the processes that
    made them (and count against the run's memory: sandbox.memory_used)."""
    if uids is None:
        return 0
    held = 0
    for entry in left_by(uids.all(), ("/dev/shm",)):
        try:
            held += entry.stat(follow_symlinks=False).st_blocks * 512
        except OSError:
            pass
    owners = {str(uid) for uid in uids.all()}
    for row in sysv_rows("shm"):   # resident bytes where the kernel says them
        held += int(row.get("rss", row["size"])) if row["uid"] in owners else 0
    return held


def end(uids: Uids) -> None:
    """No PID namespace: every process of the run's uids, wherever it went."""
    for uid in uids.all():
        kill_all(uid)


def end_uid(uid: int) -> None:
    """Nothing of the uid survives its run: its processes, then what it left on the machine (in a root container
    /tmp and /dev/shm are shared by every process, so they cannot be private mounts): its files in the shared
    folders, and its System V shared memory, queues and semaphores, which would otherwise outlive every process."""
    kill_all(uid)
    for entry in left_by({uid}):
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass
    for kind, option in SYSV_IPC.items():
        for key in sysv_objects(kind, uid):
            subprocess.run(["ipcrm", option, key], capture_output=True)


def describe(applied: list[str]) -> str:
    text = {"seccomp": "seccomp: no IP sockets", "landlock": "Landlock: reads the system and Python only, writes "
            "the scratch folder and /tmp only (/tmp not listable: the machine's own)"}
    missing = [] if "landlock" in applied else [
        "Landlock: not on this host (files are kept from the student side by their owners and modes alone)"]
    return "; ".join(["a uid of its own for this run's kernel and another for its driver (no namespaces: a root "
                      "container)", *(text[a] for a in applied), *missing])


def open_to_others(folder: Path) -> bool:
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
    lines, pythons = [], [Path(r) for r in python_roots()]
    for folder in dict.fromkeys([PROJECT, *map(Path, folders)]):
        folder = folder.resolve()
        if not folder.is_dir() or not open_to_others(folder):
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
