"""What the grader (grade.py, sandbox/__init__.py), contain.py and driver.py agree on, in one place. It is copied
into the scratch folder's _grading/bin beside the driver (sandbox.DRIVER_FILES) and imported there as a plain
module: nothing here may import the rest of the project.

    exit statuses   NO_KERNEL (the driver: the kernel never started, twice) and REFUSED (contain.py: a
                    containment layer could not be applied; nothing of the student's ran). Both are the
                    grader's signs of an infrastructure failure, never a notebook's.
    run.json        the run's limits, written by the grader into _grading/ before the run (RUN_KEYS)
    the two uids    where the grader is root, the driver runs as one and starts the kernel as another
                    (STUDENT_ENV tells the driver which); `to_driver` and `to_student` are the drops to each
    probe files     the files each probe may send back to the driver (PROBE_FILES: anything else is dropped)
"""
NO_KERNEL = 75
REFUSED = 76

RUN_FILE = ("_grading", "run.json")
RUN_KEYS = ("notebook", "csv_name", "cell_cpu", "cell_timeout", "run_timeout", "probe_timeout", "probes")

STUDENT_ENV = ("LAB8_STUDENT_UID", "LAB8_STUDENT_GID")
# What the driver keeps (ambient, so they survive its exec): start the kernel as the student's uid (setuid,
# setgid; setpcap to empty the kernel's bounding set) and end it (kill). All in Docker's defaults.
DRIVER_CAPS = ("setuid", "setgid", "setpcap", "kill")

PROBE_FILES = {"harvest": r"harvest\.json|snapshots\.npy|final_separation\.npy",
               "hook": r"hook\.json|hook_emb\d\.npy|hook_off\.npy", "snapshot": r"snapshot\.(json|npy)",
               "train": r"train\.(json|npy)", "export": r"export\.(json|csv)", "separation": r"separation\.json"}


def to_student(uid: int, gid: int, setpriv: str = "setpriv") -> list[str]:
    """The command prefix that runs what follows as the student: its uid and group, no other group, no
    capability and no way to gain one."""
    return [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "--no-new-privs", "--"]


def to_driver(uid: int, gid: int, student_gid: int, setpriv: str = "setpriv") -> list[str]:
    """... as the driver: its uid and group, in the student's group too, keeping DRIVER_CAPS only."""
    caps = ",".join("+" + c for c in DRIVER_CAPS)
    return [setpriv, f"--reuid={uid}", f"--regid={gid}", f"--groups={student_gid}", f"--inh-caps=-all,{caps}",
            f"--ambient-caps=-all,{caps}", f"--bounding-set=-all,{caps}", "--no-new-privs", "--"]
