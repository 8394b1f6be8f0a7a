"""The student side's first program: it restricts itself, then becomes the driver.

    python -I contain.py --layers seccomp,landlock --rw DIR ... --ro DIR ... [--unlisted DIR] -- python -I driver.py WORKDIR

Runs as the unprivileged user (or uid) student code runs as, before any student code: the layers it applies
are inherited by every process the driver and the notebook start, and none can be lifted again.

  seccomp   no IP sockets: socket() for any family but AF_UNIX (the kernel's IPC transport) and AF_NETLINK
            (the interface list zmq reads) fails with EACCES, and io_uring, which could open sockets past that filter, is refused. Namespaces are
            not needed for it, so it works in Gradescope's root container where bubblewrap cannot.
  landlock  the files: read (and run) only below the --ro folders, read and write only below the --rw
            ones, and below an --unlisted one everything but listing a folder: in user mode /tmp is the
            machine's own, so a file the notebook names there (its scratch file) works, while what others left
            there cannot be found. Reading the project, a release, the solutions or another submission fails, whatever
            their permissions say.

The grader asks only for layers `available()` found in its own process; a layer asked for that cannot be
applied here stops the run with exit status REFUSED, so a run that went on had every layer it asked for.
"""
from __future__ import annotations

import argparse
import errno
import os
import socket
import sys

try:
    from .protocol import REFUSED   # imported by the grader (sandbox.layers)
except ImportError:   # run as a program from _grading/bin, protocol.py beside it (root's, read-only)
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from protocol import REFUSED
LAYERS = ("seccomp", "landlock")


def landlock_abi() -> int:
    """The kernel's Landlock ABI version (0: none, or refused, e.g. by a container's seccomp profile)."""
    try:
        from landlock import landlock_abi_version
        return int(landlock_abi_version())
    except Exception:
        return 0


def seccomp_ready() -> bool:
    try:
        import pyseccomp
        pyseccomp.SyscallFilter(defaction=pyseccomp.ALLOW)   # loads libseccomp; nothing is installed yet
        return True
    except Exception:
        return False


def available() -> list[str]:
    """The layers this machine can apply, as seen from the grader's process."""
    return [name for name, ok in (("seccomp", seccomp_ready()), ("landlock", landlock_abi() > 0)) if ok]


def no_ip_sockets() -> None:
    import pyseccomp as sc
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    # Every address family but AF_UNIX (the kernel's IPC transport) and AF_NETLINK (zmq reads the
    # interface list through it; it carries no traffic off the machine) is refused: IP, packet, vsock...
    for family in range(2, 46):
        if family != socket.AF_NETLINK:
            f.add_rule(sc.ERRNO(errno.EACCES), "socket", sc.Arg(0, sc.EQ, family))
    for call in ("io_uring_setup", "io_uring_enter", "io_uring_register"):
        f.add_rule(sc.ERRNO(errno.EPERM), call)
    f.load()


def only_these_files(read_only: list[str], read_write: list[str], unlisted: list[str] = ()) -> None:
    from landlock import FSAccess, Ruleset
    abi = landlock_abi()
    # the rights this kernel's ABI knows (a ruleset naming others is refused): 1 → 13 rights, 2 adds
    # REFER, 3 TRUNCATE, 5 IOCTL_DEV; every one handled is denied unless allowed below
    handled = FSAccess(0x1FFF | (0x2000 if abi >= 2 else 0) | (0x4000 if abi >= 3 else 0) | (0x8000 if abi >= 5 else 0))
    rules = Ruleset(restrict_rules=handled)
    read = FSAccess.EXECUTE | FSAccess.READ_FILE | FSAccess.READ_DIR
    on_files = handled & (FSAccess.EXECUTE | FSAccess.READ_FILE | FSAccess.WRITE_FILE | FSAccess.TRUNCATE
                          | FSAccess.IOCTL_DEV)
    for path in read_only:
        if os.path.exists(path):
            rules.allow(path, rules=read if os.path.isdir(path) else read & on_files)
    for path in read_write:
        if os.path.exists(path):
            rules.allow(path, rules=handled if os.path.isdir(path) else on_files)
    for path in unlisted:
        if os.path.isdir(path):
            rules.allow(path, rules=handled & ~FSAccess.READ_DIR)
    rules.apply()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        print("usage: contain.py [--layers L,...] [--ro DIR]... [--rw DIR]... -- COMMAND...", file=sys.stderr)
        return 2
    split = argv.index("--")
    p = argparse.ArgumentParser(prog="contain.py")
    p.add_argument("--layers", default="")
    p.add_argument("--ro", action="append", default=[])
    p.add_argument("--rw", action="append", default=[])
    p.add_argument("--unlisted", action="append", default=[])
    args, command = p.parse_args(argv[:split]), argv[split + 1:]
    try:
        for layer in filter(None, args.layers.split(",")):
            if layer == "seccomp":
                no_ip_sockets()
            elif layer == "landlock":
                only_these_files(args.ro, args.rw, args.unlisted)
            else:
                raise ValueError(f"unknown layer {layer!r}")
    except Exception as e:
        print(f"contain.py: could not apply the {layer} layer ({type(e).__name__}: {e})", file=sys.stderr)
        return REFUSED
    os.execv(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
