"""Mode bwrap: bubblewrap. Its own PID, network, IPC and UTS namespaces, so every process it starts dies with it and
nothing is reachable over the network; the filesystem it sees is the system's programs and the Python installation
read-only, a private /tmp, and the scratch folder (at INSIDE) as the only writable place: no release, checks, other
submissions or output folders. Started by root, the process inside drops to the run's uids (uids.py) before
anything else runs; without root, bubblewrap maps one uid only, so the driver and the kernel share it (recorded).

The same few functions in every mode's module (bwrap.py, user.py, none.py): works, inside, tmpdir, files, hold,
prepare, command, written, shared_memory, end, end_uid, describe."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path

from .base import python_roots
from .uids import SANDBOX_UIDS, Uids

NAME = "bwrap"
CONTAINED = True
INSIDE = "/work"       # where the scratch folder appears (a top-level mount point: folders bubblewrap makes on the
                        # way to a deeper one are closed to non-root)
TMP_BYTES = 4 << 30    # its /tmp's size (sandbox.MAX_DISK_BYTES)
SHM_BYTES = 1 << 30    # its /dev/shm's
_works: list[bool] = []


def works() -> bool:
    """Whether bubblewrap can make its namespaces here (Docker-style root containers refuse it); probed once."""
    if not _works:
        ok = False
        if shutil.which("bwrap"):
            tmp = Path(os.environ.get("TMPDIR", "/tmp"))
            try:
                ok = subprocess.run(_bwrap(tmp, ["true"], {"PATH": "/usr/bin:/bin"}), stdin=subprocess.DEVNULL,
                                    capture_output=True, timeout=20).returncode == 0
            except (OSError, subprocess.TimeoutExpired):
                ok = False
        _works.append(ok)
    return _works[0]


def inside(scratch: Path) -> Path:
    return Path(INSIDE)


def tmpdir(inside: Path) -> str:
    return "/tmp"   # its own


def files(inside: Path) -> tuple[list[str], list[str], list[str]]:
    """(read-only, read-write, writable-but-not-listable) for contain.py's Landlock: bubblewrap already shows only
    the system, Python and INSIDE, and a /tmp of its own."""
    return ["/"], [str(inside), "/tmp", "/dev"], []


def hold():
    return contextlib.nullcontext()   # runs have namespaces of their own: none waits for another


def prepare(private) -> None:
    pass   # nothing of this machine is visible inside but the system and Python


def command(scratch: Path, argv: list[str], env: dict, uids: Uids | None) -> tuple[list[str], dict]:
    # kill(-1) is confined to the run's own PID namespace
    cmd = _bwrap(scratch, argv, {**env, "LAB8_SANDBOX_PID_NAMESPACE": "1"}, uids.command() if uids else None)
    return cmd, {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}


def written(uids) -> list[str]:
    return []   # only the scratch folder: its /tmp is a tmpfs of a fixed size (sandbox.MAX_DISK_BYTES)


def shared_memory(uids) -> int:
    return 0   # its IPC namespace and /dev/shm (a tmpfs of SHM_BYTES) are the run's own, and end with it


def end(uids: Uids | None) -> None:
    pass   # its PID namespace ended with its first process: every process in it with it


end_uid = None   # nothing of a uid outlives the namespaces (IPC, /tmp and /dev are the run's own)


def describe(applied: list[str]) -> str:
    two = os.geteuid() == 0
    return "; ".join(["bubblewrap (own PID, network and mount namespaces; " + (
        "the kernel and the driver under two unprivileged uids)" if two else
        "the kernel and the driver share one unprivileged uid: bubblewrap without root maps only one)"),
        *(LAYER_TEXT[a] for a in applied)])


LAYER_TEXT = {"seccomp": "seccomp: no IP sockets",
              "landlock": "Landlock: reads the system and Python only, writes the scratch folder and /tmp only"}


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
    for root in python_roots():
        if root.startswith(("/usr/", "/etc/")):
            continue
        # folders bubblewrap makes on the way are root-only unless given open permissions first
        for parent in reversed(Path(root).parents[:-1]):
            if str(parent) not in made:
                made.add(str(parent))
                args += ["--perms", "0755", "--dir", str(parent)]
        args += ["--ro-bind", root, root]
    return args


def _bwrap(scratch: Path, inner: list[str], env: dict, drop: list[str] | None = None) -> list[str]:
    scratch = str(Path(scratch).resolve())
    cmd = ["bwrap", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
           "--die-with-parent", "--new-session", "--clearenv", *_system_binds(),
           "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--size", str(TMP_BYTES), "--tmpfs", "/tmp",
           # a private /tmp anyone may write, of a fixed size; a /dev/shm too (POSIX shared memory)
           "--perms", "1777", "--size", str(SHM_BYTES), "--tmpfs", "/dev/shm",
           "--bind", scratch, INSIDE, "--chdir", INSIDE]
    for key, value in env.items():
        cmd += ["--setenv", key, value]
    if os.geteuid() == 0:
        # root's own namespaces need no user namespace; the process inside drops to an unprivileged uid
        # (`drop`: Uids.command) before it runs anything
        drop = drop or Uids(SANDBOX_UIDS[0], SANDBOX_UIDS[0]).command(driver=False)
        return cmd + ["--", *drop, *inner]
    return cmd[:1] + ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"] + cmd[1:] + ["--", *inner]
