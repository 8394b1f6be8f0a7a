"""The uids a contained run is done under, where the grader is root: drawn fresh for every run (bubblewrap and user
mode alike; no passwd entry is needed), so the process limit, every file and process and shared memory object of
a run are its own. The driver's uid is the student's plus DRIVER_OFFSET; each uid is its own group, and the driver
is also in the student's (protocol.to_driver). A run claims its uids (`claim`) before its scratch folder, root's
until then, is handed to them: a run cannot find or write the next one's files, with several grading processes
on one machine."""
from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from dataclasses import dataclass

import psutil

from . import protocol
from .base import SandboxError

SANDBOX_UIDS = range(200_000, 1_200_000)
DRIVER_OFFSET = 1_000_000
# root's (700): one lock file per student uid a run holds. Not in /tmp: the trial's containers each have a /tmp of
# their own but share this machine's uids
UID_CLAIMS = "/run/lab8-uids" if os.path.isdir("/run") else "/tmp/lab8-uids"


@dataclass(frozen=True)
class Uids:
    """Who runs a contained run: the student's uid and group; the driver's uid and group, or None when the
    command is not the driver (it then runs as the student)."""
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
        """setpriv's drop to the driver (protocol.DRIVER_CAPS, in the student's group) or to the student (none)."""
        if driver and self.driver is not None:
            return protocol.to_driver(self.driver, self.driver_group, self.group)
        return protocol.to_student(self.student, self.group)

    def env(self) -> dict:
        """What the driver needs to start the kernel as the student (nothing when there is no driver)."""
        return dict(zip(protocol.STUDENT_ENV, (str(self.student), str(self.group)))) if self.driver else {}


@contextlib.contextmanager
def claim(driver: bool, end=None):
    """Fresh uids for one run, held until it is over; `end(uid)` is called for each as it is given back (user
    mode's: nothing of the uid is left). A uid is this run's once its lock file under UID_CLAIMS is held and no
    process of it is found: two grading processes on one machine never draw the same one."""
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
        if any(processes(u) for u in uids.all()):
            os.close(fd)
            continue
        try:
            yield uids
        finally:
            for uid in uids.all() if end else ():
                end(uid)
            os.unlink(f"{UID_CLAIMS}/{uids.student}")
            os.close(fd)
        return


def processes(uid: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["uids"]):
        try:
            if proc.info["uids"] and proc.info["uids"].real == uid and proc.pid != os.getpid():
                found.append(proc)
        except psutil.Error:
            continue
    return found


def kill_all(uid: int) -> None:
    """SIGKILL every process of uid, again and again until none is left (a dying one may fork)."""
    for _ in range(50):
        procs = processes(uid)
        if not procs:
            return
        for proc in procs:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(procs, timeout=2)
