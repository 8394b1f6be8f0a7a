"""The image trial (`build.py grade --gradescope --image`): Gradescope's autograder image rebuilt from a bare
root filesystem, and each submission's run_autograder run inside it.

What is rebuilt, and how:

  1. a fresh minimal root: Debian bookworm by debootstrap (--variant=minbase, from deb.debian.org), cached once
     for every image (rootfs.py);
  2. the zip unpacked at /autograder/source of a copy of it, and its setup.sh run there as root (bubblewrap, no
     user namespace, the network on: apt from Debian's mirror, pip from the package registries this machine
     reaches — PyPI, this machine's pip settings: its CA bundle for the TLS proxy, its local indexes and wheels,
     bound read-only under /tmp, which leaves nothing in the image). setup.sh's last step (the sandbox users,
     the judge's replay cache) is part of the image, as on Gradescope;
  3. the image cached (rootfs.cache_dir()/gradescope-bookworm-<key>) under the sha256 of the zip's setup.sh,
     requirements.txt and python_version and BUILDER: a class's trial, and the next trial of a zip with the same
     set-up, pays once;
  4. each submission: the image as the lower layer of an overlay (nothing a run writes reaches the cache or the
     next run), this zip unpacked at /autograder/source, the submission in /autograder/submission; then
     run_autograder in the container (container.py: the trial's own cgroup — half a CPU, 3 GB by default —
     joined first, then the root entered with bubblewrap in its own pid namespace, then, inside, by the image's
     Python, the seccomp filter that refuses new namespaces (and Landlock with --no-landlock) and Docker's
     capability bounding set). No path of this machine is visible but /sys (read-only, as Docker shows it) and
     its DNS settings. The grader must find bubblewrap refused and choose its user mode by itself.

What still differs from Gradescope's image:
  - Debian bookworm, not Ubuntu 22.04: Ubuntu's archive is not reachable here. Bookworm's python3 is 3.11, the
    build's minor version, so setup.sh uses it; its other path (uv fetching a Python from GitHub, for Ubuntu
    22.04's 3.10) is not exercised offline.
  - torch: the zip pins PyTorch's +cpu wheels from download.pytorch.org, unreachable here. Where an index the
    requirements name cannot be reached, the image's copy of requirements.txt drops that index and the pins'
    local +cpu label: torch and torchvision are then PyPI's builds of the same versions (CUDA builds, run on the
    CPU; the release was verified with them), from this machine's copy. Each change is logged and recorded.
  - Docker is bubblewrap (mount, pid namespaces) + a cgroup + seccomp: no network namespace, no cgroup namespace.
"""
from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
import socket
import subprocess
import time
import zipfile
from pathlib import Path
from urllib.parse import urlparse

from autograder.grading import rootfs
from autograder.shipped.grade import GradingError

SUITE = "bookworm"
BASE = f"Debian {SUITE} (debootstrap --variant=minbase, {rootfs.MIRROR}); Gradescope's is Ubuntu 22.04"
BUILDER = 1   # bumped when the way an image is built changes: a new cache key
SETUP_FILES = ("setup.sh", "requirements.txt", "python_version")
VENV_PYTHON = "/opt/lab8-venv/bin/python"
HOST = "/tmp/host"   # where this machine's CA bundle and pip indexes appear while setup.sh runs (a tmpfs)


class ImageError(GradingError):
    """One line: the zip, the step that failed, the log to read."""


def image_key(zip_path: Path) -> str:
    digest = hashlib.sha256(f"{BUILDER} {SUITE}".encode())
    with zipfile.ZipFile(zip_path) as zf:
        for name in SETUP_FILES:
            digest.update(name.encode() + b"\0" + zf.read(name) + b"\0")
    return digest.hexdigest()[:16]


def _reachable(url: str, seconds: float = 5.0) -> bool:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https"):
        return True
    try:
        socket.create_connection((parsed.hostname, parsed.port or (443 if parsed.scheme == "https" else 80)),
                                 timeout=seconds).close()
        return True
    except OSError:
        return False


def offline_requirements(text: str, reachable=_reachable) -> tuple[str, list[str]]:
    """(requirements.txt as the image installs it, the changes made): an index the file names that cannot be
    reached is dropped, and so is the local label (+cpu) of every pin, which only that index serves."""
    lines, changes, dropped = [], [], False
    for line in text.splitlines():
        option = re.match(r"\s*--(extra-)?index-url[ =]\s*(\S+)", line)
        if option and not reachable(option.group(2)):
            changes.append(f"dropped `{line.strip()}` ({urlparse(option.group(2)).hostname} unreachable)")
            dropped = True
            continue
        lines.append(line)
    if dropped:
        for i, line in enumerate(lines):
            pin = re.match(r"\s*([A-Za-z0-9_.\-\[\]]+)==([^\s+#;]+)\+[A-Za-z0-9.]+(.*)$", line)
            if pin:
                lines[i] = f"{pin.group(1)}=={pin.group(2)}{pin.group(3)}"
                changes.append(f"{line.strip()} → {lines[i].strip()} (PyPI's build of that version: from this machine's copy where its pip settings have one)")
    return "\n".join(lines) + "\n", changes


def host_pip() -> tuple[dict, list]:
    """(the PIP_* variables, the read-only binds) that give pip inside the root this machine's pip settings:
    its index URLs and find-links (local folders bound under HOST), its CA bundle and timeout."""
    proc = subprocess.run(["python3", "-m", "pip", "config", "list"], capture_output=True, text=True)
    settings = {}
    for line in proc.stdout.splitlines():   # global.extra-index-url='…' (a later scope overrides)
        match = re.match(r"[^.]+\.([a-z-]+)='(.*)'$", line.strip())
        if match:
            settings[match.group(1)] = match.group(2)
    binds, env = [], {"PIP_CERT": f"{HOST}/ca.crt", "PIP_DISABLE_PIP_VERSION_CHECK": "1",
                      "PIP_DEFAULT_TIMEOUT": settings.get("default-timeout", "180")}

    def local(value: str) -> str:
        path = Path(urlparse(value).path if value.startswith("file:") else value)
        if not path.exists():
            return ""
        top = path.parent if path.name == "simple" else path   # an index's links reach ../../files
        inside = f"{HOST}/{len(binds)}"
        binds.append((str(top), inside))
        moved = inside + ("/simple" if top != path else "")
        return f"file://{moved}" if value.startswith("file:") else moved
    for key, var in (("index-url", "PIP_INDEX_URL"), ("extra-index-url", "PIP_EXTRA_INDEX_URL"),
                     ("find-links", "PIP_FIND_LINKS")):
        if key in settings:
            values = [v if urlparse(v).scheme in ("http", "https") else local(v) for v in settings[key].split()]
            if any(values):
                env[var] = " ".join(v for v in values if v)
    return env, binds


def _base(zip_path: Path, log) -> Path:
    def make(partial: Path) -> dict:
        log(f"image: base root: {BASE} …")
        rootfs.debootstrap(SUITE, partial)
        return {"suite": SUITE, "mirror": rootfs.MIRROR}
    if shutil.which("debootstrap") is None:
        raise ImageError(f"{zip_path}: the image's base root needs debootstrap (apt-get install debootstrap)")
    try:
        root, record, made = rootfs.cached(f"debootstrap-{SUITE}-minbase", make, log)
    except subprocess.CalledProcessError as e:
        last = (e.stderr or b"").decode(errors="replace").strip().splitlines()[-1:]
        raise ImageError(f"{zip_path}: the image's base root: debootstrap {SUITE} failed (exit {e.returncode}"
                         f"{': ' + last[0] if last else ''})") from None
    log(f"image: base root {'made' if made else 'cached'}: {BASE} ({record['seconds']:g} s to make)")
    return root


def build(zip_path: Path, log=print) -> tuple[Path, dict]:
    """The image for zip_path's set-up (built if not cached): (its root, its record: base, python, torch, the
    requirements changed, setup.sh's seconds)."""
    zip_path = Path(zip_path)
    name = f"gradescope-{SUITE}-{image_key(zip_path)}"
    log_path = rootfs.cache_dir() / f"{name}.setup.log"
    if (record := rootfs.built(rootfs.cache_dir() / name)) is not None:
        log(f"image: cached {rootfs.cache_dir() / name} (made {record['made']} from {record['zip']}: {record['base']}; "
            f"setup.sh {record['setup_seconds']:g} s; Python {record['python']}, torch {record['torch']})")
        return rootfs.cache_dir() / name, record
    base = _base(zip_path, log)

    def make(partial: Path) -> dict:
        subprocess.run(["cp", "-a", str(base), str(partial)], check=True)   # a real copy: apt appends in place
        (partial / rootfs.DONE).unlink()
        source = partial / "autograder" / "source"
        for folder in ("source", "submission", "results"):
            (partial / "autograder" / folder).mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(source)
        for script in ("setup.sh", "run_autograder"):
            (source / script).chmod(0o755)
        text, changes = offline_requirements((source / "requirements.txt").read_text())
        (source / "requirements.txt").write_text(text)
        for change in changes:
            log(f"image: requirements.txt: {change}")
        env, binds = host_pip()
        shown = "; ".join(f"{k}={v}" for k, v in env.items() if k != "PIP_DISABLE_PIP_VERSION_CHECK")
        log(f"image: setup.sh as root in it (apt: {rootfs.MIRROR}; pip: PyPI and this machine's pip settings: "
            f"{shown}) … log: {log_path}")
        started = time.monotonic()
        with open(log_path, "wb") as out:
            proc = subprocess.run(rootfs.enter(partial, "bash", "/autograder/source/setup.sh", ro_binds=binds,
                                               host_ca=f"{HOST}/ca.crt", env=env),
                                  stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        seconds = round(time.monotonic() - started, 1)
        if proc.returncode != 0:
            raise ImageError(f"{zip_path}: setup.sh failed in the image (exit {proc.returncode}, after {seconds:g} s); "
                             f"its log: {log_path}")
        probe = subprocess.run(rootfs.enter(partial, VENV_PYTHON, "-c", "import sys, torch; print(sys.version.split()[0],"
                                            " torch.__version__)", network=False, host_ca=None),
                               capture_output=True, text=True)
        python, torch = (probe.stdout.split() + ["?", "?"])[:2]
        os_release = dict(re.findall(r'^(\w+)="?([^"\n]*)"?$', (partial / "etc" / "os-release").read_text(), re.M))
        log(f"image: setup.sh done in {seconds:g} s: the autograder's Python {python} ({os_release.get('PRETTY_NAME')}"
            f"'s python3), torch {torch}")
        return {"base": BASE, "os": os_release.get("PRETTY_NAME"), "python": python, "torch": torch,
                "requirements_changed": changes, "setup_seconds": seconds, "zip": str(zip_path),
                "zip_sha256": hashlib.sha256(zip_path.read_bytes()).hexdigest(),
                "made": time.strftime("%Y-%m-%d %H:%M:%S"), "setup_log": str(log_path)}
    started = time.monotonic()
    root, record, _ = rootfs.cached(name, make, log)
    log(f"image: cached as {root} ({time.monotonic() - started:.0f} s to make; the next trial of these set-up files "
        "starts from it)")
    return root, record


def describe(record: dict) -> dict:
    """What extra_data.trial.image says of the image a run used."""
    return {key: record.get(key) for key in ("base", "os", "python", "torch", "requirements_changed", "made")}


def run_in_image(image: Path, zip_path: Path, submission_dir: Path, work: Path, results: Path, container,
                 timeout=None) -> None:
    """run_autograder for one submission (its files in submission_dir) in an overlay of the image, inside
    `container`; /autograder/results copied to `results`."""
    with contextlib.ExitStack() as stack:
        try:
            merged = stack.enter_context(rootfs.overlay(image, work))
        except subprocess.CalledProcessError as e:
            raise ImageError(f"{zip_path}: the run's overlay of the image {image} could not be mounted "
                             f"({(e.stderr or '').strip() or e})") from None
        top = merged / "autograder"
        for folder in ("source", "submission", "results"):
            shutil.rmtree(top / folder, ignore_errors=True)
        with zipfile.ZipFile(zip_path) as zf:   # this zip (the image's may be another with the same set-up)
            zf.extractall(top / "source")
        for script in ("setup.sh", "run_autograder"):
            (top / "source" / script).chmod(0o755)
        shutil.copytree(submission_dir, top / "submission")
        (top / "results").mkdir()
        env = {"LAB8_TIMEOUT": str(timeout or "")}

        def enter(argv):
            return rootfs.enter(merged, *argv, ro_binds=["/sys"], host_ca=None, env=env, chdir="/autograder")
        subprocess.run(container.command(["bash", "/autograder/source/run_autograder"], enter=enter,
                                         python=VENV_PYTHON),
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.rmtree(results, ignore_errors=True)
        shutil.copytree(top / "results", results)
