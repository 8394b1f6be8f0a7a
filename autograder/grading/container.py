"""The container Gradescope runs a submission in, made on this machine for `build.py grade --gradescope`.

Gradescope runs run_autograder as root in a Docker container: Docker's default capabilities (no
CAP_SYS_ADMIN), Docker's default seccomp profile (no user namespaces, no mounts: so no bubblewrap), and the
CPU and memory the instructor set (by default half a CPU and 768 MB; the README asks for 3 GB). A trial
that skips any of these grades in a kinder place than the students' and proves nothing, so each run here:

  1. joins a cgroup of its own with a CPU quota (`cpus` × the period) and a memory limit (cgroup v1's
     cpu and memory controllers, or v2's cpu.max and memory.max), where this machine lets root make one;
  2. refuses new namespaces with a seccomp filter, as Docker's profile does for a process without
     CAP_SYS_ADMIN (unshare, setns, mount; clone with a namespace flag; clone3 answers ENOSYS);
  3. keeps only Docker's default capabilities in its bounding set, then runs the command as root;
  4. gives it a /tmp, a /var/tmp and a /dev/shm of its own (a mount namespace, made while still the host's root:
     the first two are empty folders on this machine's disk, as a container's are on its image's, the last
     Docker's default 64 MB in memory): on Gradescope every submission has its container, so no other run shares
     them, and trials of a class run side by side (`--jobs`) as Gradescope's containers do. The folders the run is
     given under /tmp (its /autograder tree, the judge's cache) are bound back in at their paths;
  5. with `landlock=False`, refuses Landlock's three calls (EPERM, what Docker's profile answers for a call it
     does not list): a Gradescope host with an older kernel or an older Docker has no Landlock, and the grader
     must hold there too (`build.py grade --gradescope --no-landlock`).

The grader inside then has to choose its own sandbox, as it must on Gradescope: no variable tells it.
What could not be made (no writable cgroup here, say) is said in `Container.notes`, never skipped silently.

    python -m autograder.grading.container [--cgroup DIR]... [--disk DIR] [--keep DIR]...
                                           [--refuse-landlock|--no-filter] -- COMMAND...  (Container.command's)
"""
from __future__ import annotations

import ctypes
import errno
import os
import secrets
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from autograder.contract import GRADESCOPE_CPUS, GRADESCOPE_MEMORY_GB

# Docker's default capability set (moby's defaults: oci/caps/defaults.go)
DOCKER_CAPS = ("chown", "dac_override", "fsetid", "fowner", "mknod", "net_raw", "setgid", "setuid", "setfcap",
               "setpcap", "net_bind_service", "sys_chroot", "kill", "audit_write")
CLONE_NAMESPACES = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000)
V1 = Path("/sys/fs/cgroup")
PERIOD_US = 100_000


def _own_cgroup(controller: str) -> str:
    """This process's cgroup path for a v1 controller ('' for v2's unified line)."""
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, names, path = line.split(":", 2)
        if controller in names.split(",") or (controller == "" and names == ""):
            return path
    return "/"


@dataclass
class Container:
    """One submission's container: make it, run `command(argv)` in it, read `memory_counters()`, `close()`."""
    cpus: float = GRADESCOPE_CPUS
    memory: int = GRADESCOPE_MEMORY_GB * 2**30
    landlock: bool = True
    cgroups: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    disk: Path | None = None   # its /tmp and /var/tmp, on this machine's disk (root's only above them)

    def __post_init__(self):
        self.disk = Path(tempfile.mkdtemp(prefix="lab8-trial-", dir="/var/tmp"))
        for name in ("tmp", "var-tmp"):
            (self.disk / name).mkdir()
            os.chmod(self.disk / name, 0o1777)
        name = f"lab8-trial-{os.getpid()}-{secrets.token_hex(4)}"
        cpu_v1, mem_v1 = V1 / "cpu", V1 / "memory"
        try:
            if cpu_v1.is_dir() and mem_v1.is_dir():
                cpu = cpu_v1 / _own_cgroup("cpu").lstrip("/") / name
                mem = mem_v1 / _own_cgroup("memory").lstrip("/") / name
                cpu.mkdir()
                self.cgroups.append(cpu)
                (cpu / "cpu.cfs_period_us").write_text(str(PERIOD_US))
                (cpu / "cpu.cfs_quota_us").write_text(str(int(self.cpus * PERIOD_US)))
                mem.mkdir()
                self.cgroups.append(mem)
                (mem / "memory.limit_in_bytes").write_text(str(self.memory))
            elif (V1 / "cgroup.controllers").is_file():
                unified = V1 / _own_cgroup("").lstrip("/") / name
                unified.mkdir()
                self.cgroups.append(unified)
                (unified / "cpu.max").write_text(f"{int(self.cpus * PERIOD_US)} {PERIOD_US}")
                (unified / "memory.max").write_text(str(self.memory))
            else:
                raise OSError("no cgroup controllers mounted")
        except OSError as e:
            self.close()
            self.notes.append(f"no CPU or memory limit: this machine gives no writable cgroup ({e.strerror or e}); "
                              "the trial runs at this machine's full speed and memory")

    def command(self, argv: list[str], keep=(), enter=None, python: str | None = None) -> list[str]:
        """The command that runs argv in this container. `keep`: folders under /tmp the run is given (bound into
        its own /tmp). enter (the image trial, image.py): argv → the command that runs argv in a root filesystem
        (its own /tmp); it runs once the cgroups are joined, and the filter is applied inside the root by the
        root's own `python` (the filter refuses the mounts that entering needs)."""
        caps = ",".join("+" + c for c in DOCKER_CAPS)
        inner = ["setpriv", f"--bounding-set=-all,{caps}", "--inh-caps=-all", "--", *argv]
        joins = [a for path in self.cgroups for a in ("--cgroup", str(path))]
        if enter is not None:
            inner = enter([python, "-c", filter_source(self.landlock), *inner])
            return [sys.executable, "-m", "autograder.grading.container", *joins, "--no-filter", "--", *inner]
        joins += ["--disk", str(self.disk), *(a for path in keep for a in ("--keep", str(path)))]
        refuse = [] if self.landlock else ["--refuse-landlock"]
        return [sys.executable, "-m", "autograder.grading.container", *joins, *refuse, "--", *inner]

    def memory_counters(self) -> dict:
        """The grader's own reading of a memory cgroup (sandbox.memory_counters), for this container's."""
        from autograder.shipped.sandbox import memory_counters
        memory = [p for p in self.cgroups if (p / "memory.oom_control").exists() or (p / "memory.events").exists()]
        return memory_counters(memory[0]) if memory else {"oom_kills": 0, "peak": None, "limit": None}

    def describe(self) -> str:
        landlock = "" if self.landlock else ", Landlock refused"
        if not self.cgroups:
            return "; ".join(self.notes) + landlock
        return (f"{self.cpus:g} CPU, {self.memory / 2**30:g} GiB, Docker's default capabilities, "
                f"user namespaces refused, its own /tmp, /var/tmp and /dev/shm{landlock}")

    def close(self) -> None:
        for path in reversed(self.cgroups):
            for _ in range(50):   # its last processes may take a moment to leave
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.1)
        self.cgroups = []
        if self.disk is not None:
            shutil.rmtree(self.disk, ignore_errors=True)
            self.disk = None


CLONE_NEWNS, MS_BIND, MS_REC, MS_PRIVATE = 0x00020000, 0x1000, 0x4000, 0x40000
SHM = "mode=1777,size=64m"   # Docker's default /dev/shm


def private_tmp(disk: str | None, keep=()) -> None:
    """This process (root, before the seccomp filter) gets a mount namespace with an empty /tmp and /var/tmp (the
    `disk` folder's tmp/ and var-tmp/) and /dev/shm of its own; each folder in `keep` appears at its old path,
    bound from the host's."""
    libc = ctypes.CDLL(None, use_errno=True)

    def check(result, what):
        if result != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")
    check(libc.unshare(CLONE_NEWNS), "unshare")
    check(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
    fds = {path: os.open(path, os.O_RDONLY | os.O_DIRECTORY) for path in keep}   # this namespace's mounts
    own = {"/tmp": os.open(f"{disk}/tmp", os.O_RDONLY | os.O_DIRECTORY),
           "/var/tmp": os.open(f"{disk}/var-tmp", os.O_RDONLY | os.O_DIRECTORY)} if disk else {}
    for target, fd in own.items():
        check(libc.mount(f"/proc/self/fd/{fd}".encode(), target.encode(), None, MS_BIND, None), f"bind {target}")
        os.close(fd)
    check(libc.mount(b"tmpfs", b"/dev/shm", b"tmpfs", 0, SHM.encode()), "mount tmpfs /dev/shm")
    for path, fd in fds.items():
        for folder in reversed([Path(path), *Path(path).parents]):
            if not folder.exists():
                folder.mkdir(mode=0o711)   # as the host's: passable, not listable
        check(libc.mount(f"/proc/self/fd/{fd}".encode(), path.encode(), None, MS_BIND | MS_REC, None),
              f"bind {path}")
        os.close(fd)


LANDLOCK_CALLS = ("landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self")


def refuse_namespaces(landlock: bool = True) -> None:
    """Docker's default seccomp profile, for what matters here: no new namespaces, no mounts; and, for a host
    without Landlock, none of its calls either."""
    import pyseccomp as sc
    f = sc.SyscallFilter(defaction=sc.ALLOW)
    if not landlock:
        for call in LANDLOCK_CALLS:
            f.add_rule(sc.ERRNO(errno.EPERM), call)
    for call in ("unshare", "setns", "mount", "umount2", "pivot_root"):
        f.add_rule(sc.ERRNO(errno.EPERM), call)
    for flag in CLONE_NAMESPACES:
        f.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, flag, flag))
    f.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")   # as Docker: glibc then falls back to clone
    f.load()


def filter_source(landlock: bool = True) -> str:
    """Python source (for `python -c SOURCE COMMAND...`) that applies refuse_namespaces(landlock), then execs
    COMMAND: run by a root filesystem's own Python, where this module is not (the image trial)."""
    import inspect
    return "\n".join(["import errno, os, sys", f"CLONE_NAMESPACES = {CLONE_NAMESPACES!r}",
                      f"LANDLOCK_CALLS = {LANDLOCK_CALLS!r}", inspect.getsource(refuse_namespaces),
                      f"refuse_namespaces({landlock!r})", "os.execvp(sys.argv[1], sys.argv[1:])"])


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    split = argv.index("--")
    options, command = argv[:split], argv[split + 1:]
    landlock = "--refuse-landlock" not in options
    apply_filter = "--no-filter" not in options   # the image trial: the root applies it (filter_source)
    options = [o for o in options if o not in ("--refuse-landlock", "--no-filter")]
    pairs = list(zip(options[::2], options[1::2]))
    for _, path in filter(lambda p: p[0] == "--cgroup", pairs):
        Path(path, "cgroup.procs").write_text(str(os.getpid()))
    if apply_filter:   # the image trial's root has a /tmp of its own already
        disk = next((path for option, path in pairs if option == "--disk"), None)
        private_tmp(disk, [path for option, path in pairs if option == "--keep"])
        refuse_namespaces(landlock)
    os.execvp(command[0], command)


if __name__ == "__main__":
    sys.exit(main())
