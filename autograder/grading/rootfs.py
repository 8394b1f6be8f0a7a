"""Root filesystems made from nothing with debootstrap, cached, and entered with bubblewrap: what the
image trial (image.py: Gradescope's autograder image) and the tests' Colab runtime
(tests/release/colab_runtime.py) are built on.

    cache_dir()        where built roots are kept ($LAB8_PLATFORM_CACHE, default /var/cache/lab8/platforms)
    cached(...)        a root built once under a key (into NAME.partial, renamed when done), its path after
    debootstrap(...)   a minimal Debian root (--variant=minbase) of a suite, from Debian's mirror
    enter(...)         the bubblewrap command that runs argv with a root as / (as root: no user namespace)
    writable_copy(...) a hard-linked copy of a cached root (seconds, no space), for a run that installs
    overlay(...)       the cached root read-only below a run's own upper folder (nothing reaches the cache)

Needs root (debootstrap, mounts) and bubblewrap.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

MIRROR = "http://deb.debian.org/debian"
DONE = ".built"   # the marker (JSON: what was built, and how long it took) a finished root holds


def cache_dir() -> Path:
    """The cache, root's only (700): a built Gradescope image holds the zip it was made from, solutions included,
    and a trial's student side (another uid; on a host without Landlock, every file any uid may read) must not
    reach it. Roots are entered with bubblewrap, which never needs the way down to them opened."""
    folder = Path(os.environ.get("LAB8_PLATFORM_CACHE", "/var/cache/lab8/platforms"))
    folder.mkdir(parents=True, exist_ok=True)
    if folder.stat().st_mode & 0o077:
        os.chmod(folder, 0o700)
    return folder


def built(root: Path) -> dict | None:
    """The record a finished root keeps, or None when it was never finished."""
    try:
        return json.loads((Path(root) / DONE).read_text())
    except (OSError, ValueError):
        return None


def cached(name: str, make, log=print) -> tuple[Path, dict, bool]:
    """(root, its record, whether it was made now): cache_dir()/name, made by make(partial) -> dict (the
    record) into name.partial first, so an interrupted build is never taken for a finished one."""
    root = cache_dir() / name
    record = built(root)
    if record is not None:
        return root, record, False
    shutil.rmtree(root, ignore_errors=True)
    partial = root.with_name(root.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    record = dict(make(partial) or {})
    record.setdefault("seconds", round(time.monotonic() - started, 1))
    (partial / DONE).write_text(json.dumps(record, indent=1))
    partial.rename(root)
    return root, record, True


def debootstrap(suite: str, dest: Path, include=(), mirror: str = MIRROR, timeout: int = 1800) -> None:
    """A minimal Debian root of `suite` (debootstrap --variant=minbase, plus `include`) at dest."""
    extra = [f"--include={','.join(include)}"] if include else []
    subprocess.run(["debootstrap", "--variant=minbase", *extra, suite, str(dest), mirror],
                   check=True, capture_output=True, timeout=timeout)


def enter(root: Path, *argv: str, binds=(), ro_binds=(), network=True, env=None, chdir: str | None = None,
          host_ca: str | None = "/etc/ssl/certs/host-ca.crt") -> list[str]:
    """The command that runs argv in root (bubblewrap: the root as /, its own /tmp (mode 1777, as a Debian root's
    own /tmp: anyone may write), /dev, /proc and pid
    namespace, this machine's DNS settings and — at host_ca, unless None — its CA bundle (its TLS proxy needs
    it), `binds` and `ro_binds` ((source, path inside) or one path for both), no environment but env)."""
    cmd = ["bwrap", "--bind", str(root), "/", "--dev", "/dev", "--proc", "/proc", "--perms", "1777", "--tmpfs", "/tmp",
           "--ro-bind", "/etc/resolv.conf", "/etc/resolv.conf", "--unshare-pid", "--die-with-parent", "--clearenv"]
    if host_ca:
        cmd += ["--ro-bind", "/etc/ssl/certs/ca-certificates.crt", host_ca]
    if not network:
        cmd.append("--unshare-net")
    for kind, paths in (("--bind", binds), ("--ro-bind", ro_binds)):
        for path in paths:
            source, target = (path, path) if isinstance(path, (str, Path)) else path
            cmd += [kind, str(source), str(target)]
    if chdir:
        cmd += ["--chdir", chdir]
    values = {"HOME": "/root", "PATH": "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin",
              "LANG": "C.UTF-8", **(env or {})}
    for key, value in values.items():
        cmd += ["--setenv", key, value]
    return cmd + ["--", *argv]


def writable_copy(root: Path, dest: Path) -> Path:
    """A copy of the cached root to run in, made of hard links (seconds, no space): pip writes new files and
    removes old ones, never changing a file in place, so what a run installs stays in the copy."""
    subprocess.run(["cp", "-al", str(root), str(dest)], check=True, timeout=600)
    return dest


@contextlib.contextmanager
def overlay(root: Path, work: Path):
    """The cached root as an overlay (the kernel's overlayfs): read-only below, this run's writes in
    work/upper, seen at work/merged, which is yielded and unmounted after. Unlike a hard-linked copy, a file
    changed in place (a log appended to, a cache rewritten) is copied up first: the cache never changes."""
    upper, scratch, merged = work / "upper", work / "work", work / "merged"
    for folder in (upper, scratch, merged):
        folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "overlay", "overlay", "-o",
                    f"lowerdir={root},upperdir={upper},workdir={scratch}", str(merged)],
                   check=True, capture_output=True, text=True, timeout=60)
    try:
        yield merged
    finally:
        for _ in range(50):   # the run's last processes may take a moment to leave
            if subprocess.run(["umount", str(merged)], capture_output=True).returncode == 0:
                break
            time.sleep(0.1)
        else:
            subprocess.run(["umount", "-l", str(merged)], capture_output=True)
