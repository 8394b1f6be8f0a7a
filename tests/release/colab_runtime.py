"""Google Colab's published runtime, rebuilt as closely as this machine allows, for the tests that run the student
notebook where students run it (tests/release/test_colab.py).

What Colab publishes (../shared/notes/colab/: its os-info and pip-freeze lists) and how each part is rebuilt:

    Python 3.13            Debian trixie's python3 (3.13), in a root filesystem made with debootstrap (Colab's OS is
                           Ubuntu 22.04 with its own Python 3.13 build: the OS below Python differs)
    its packages           the lab's and the kernel's, at the versions of Colab's pip-freeze (every one of their
                           dependencies held to Colab's version too, where the list has it), from PyPI, into a venv
                           in that root (/opt/colab). torch 2.11.0 and torchvision 0.26.0: PyPI's build (CUDA,
                           running on the CPU) where Colab has PyTorch's +cpu build (its index is unreachable here);
                           the CPU code is the same release
    the kernel             ipykernel 6.17.1 from that venv, started inside the root by bubblewrap (the root read
                           and written through a hard-linked copy, so a run's installs never reach the cache), with
                           the network (pip reaches PyPI; the lab's bundle is served on 127.0.0.1). This machine's CA
                           bundle is bound in, as its TLS proxy needs; nothing else of this machine is visible.

The root is built once per set of pins and cached (autograder/grading/rootfs.py: LAB8_PLATFORM_CACHE, default /var/cache/lab8/platforms): a
few minutes and about 5 GB the first time, seconds after. Needs root (debootstrap) and bubblewrap.
"""
from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

from autograder.grading import rootfs

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT.parent / "shared" / "notes" / "colab"
FREEZE = NOTES / "pip-freeze-2026-08-19.txt"
SUITE = "trixie"
# What the lab's notebook and its kernel use, by pip name: installed at Colab's versions (those Colab has).
RUNTIME = ("torch", "torchvision", "numpy", "pandas", "scikit-learn", "scipy", "matplotlib", "pillow", "requests",
           "tqdm", "orjson", "psutil", "ipykernel", "ipython", "ipywidgets", "wrapt", "jupyter_client", "pyzmq",
           "tornado", "traitlets", "nbformat", "fpdf2", "pyyaml")
VENV = "/opt/colab"
CUDA_BUILD_ONLY = ("nvidia-", "cuda-", "triton")
BUILDER = 1   # bumped when the way the root is built changes: a new cache key


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def colab_versions(freeze: Path = FREEZE) -> dict[str, str]:
    """{package: version} of Colab's pip-freeze. A package installed from a URL (torch's +cpu wheels) gets the
    version in its wheel's name, without the local +cpu (PyPI has no such build)."""
    versions = {}
    for line in freeze.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if "==" in line:
            name, version = line.split("==", 1)
        elif " @ " in line:
            name, url = line.split(" @ ", 1)
            wheel = re.search(r"/([A-Za-z0-9_.]+)-([0-9][^-/]*?)(?:%2B|\+)[^-/]*-cp", url)
            if not wheel:
                continue
            version = wheel.group(2)
        else:
            continue
        versions[canonical(name)] = version.strip()
    return versions


def runtime_pins(freeze: Path = FREEZE) -> tuple[list[str], list[str]]:
    """(the packages to install, pinned as Colab has them; every pin of Colab's list, as constraints)."""
    versions = colab_versions(freeze)
    wanted = [f"{name}=={versions[canonical(name)]}" for name in RUNTIME if canonical(name) in versions]
    # PyPI's torch is the CUDA build: its CUDA libraries (nvidia-*, cuda-*, triton) are its own, and Colab's list has
    # one of them at another version (nvidia-nccl-cu13, for another package); Colab's CPU torch needs none of them
    return wanted, [f"{name}=={version}" for name, version in sorted(versions.items())
                    if not name.startswith(CUDA_BUILD_ONLY)]


def inside(root: Path, *argv: str, binds=(), network=True, env=None) -> list[str]:
    """The command that runs argv in root (rootfs.enter: the root as /, its own /tmp, /dev and /proc, this
    machine's CA bundle and DNS settings, `binds` at the same paths), with the venv first on PATH."""
    return rootfs.enter(root, *argv, binds=binds, network=network,
                        env={"PATH": f"{VENV}/bin:/usr/local/bin:/usr/bin:/bin", "PIP_CERT": "/etc/ssl/certs/host-ca.crt",
                             "PIP_DISABLE_PIP_VERSION_CHECK": "1", **(env or {})})


def build(log=print) -> Path:
    """The cached root with Colab's runtime in it (built if missing); its path."""
    wanted, constraints = runtime_pins()
    key = hashlib.sha256(json.dumps([BUILDER, SUITE, wanted, constraints]).encode()).hexdigest()[:16]

    def make(partial: Path) -> dict:
        log(f"Colab runtime: debootstrap {SUITE} (Python 3.13) into {partial} …")
        rootfs.debootstrap(SUITE, partial, include=("python3", "python3-venv", "ca-certificates"))
        log(f"Colab runtime: {len(wanted)} packages at Colab's versions (torch: PyPI's build) …")
        subprocess.run(inside(partial, "python3", "-m", "venv", VENV), check=True, timeout=600)
        (partial / "opt" / "colab-constraints.txt").write_text("\n".join(constraints) + "\n")
        subprocess.run(inside(partial, f"{VENV}/bin/pip", "install", "--quiet", "-c", "/opt/colab-constraints.txt",
                              *wanted), check=True, timeout=3600)
        return {"wanted": wanted}
    return rootfs.cached(f"colab-{key}", make, log)[0]


cache_dir, writable_copy = rootfs.cache_dir, rootfs.writable_copy


def versions_in(root: Path, names=RUNTIME) -> dict[str, str | None]:
    """{package: version installed in root's venv, or None}."""
    code = ("import json, importlib.metadata as m\nout = {}\nfor n in %r:\n    try: out[n] = m.version(n)\n"
            "    except m.PackageNotFoundError: out[n] = None\nimport sys\nout['python'] = sys.version.split()[0]\n"
            "print(json.dumps(out))" % (list(names),))
    proc = subprocess.run(inside(root, f"{VENV}/bin/python", "-c", code, network=False), capture_output=True,
                          text=True, check=True, timeout=120)
    return json.loads(proc.stdout)


def kernelspec(root: Path, folder: Path, jupyter: Path, runtime_dir: Path, name="lab8-colab") -> None:
    """A kernelspec (in jupyter/kernels/name) whose kernel is ipykernel in root's venv, started in root by
    bubblewrap, with `folder` (the notebooks' folders are below it) and the connection files' folder bound at
    their own paths; bubblewrap starts it in the folder nbclient starts it in."""
    spec = jupyter / "kernels" / name
    spec.mkdir(parents=True, exist_ok=True)
    argv = inside(root, f"{VENV}/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}",
                  binds=(folder, runtime_dir), env={"MPLBACKEND": "agg"})
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "Colab runtime", "language": "python"}))
