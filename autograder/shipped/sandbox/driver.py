"""The student side of grading: run one submitted notebook, then the judge's probes, in its kernel.

    python driver.py WORKDIR

Runs inside the sandbox (see sandbox.py), as an unprivileged process that can write only WORKDIR.
WORKDIR/_grading/run.json says what to run; everything this writes goes to WORKDIR/_grading/out/:
status.json (rewritten after every step, so a run cut off at the time limit still says how far it got),
executed.ipynb, and the probes' plain-data outputs. None of it is trusted: the judge reads it as data.

Containment per question: a cell that runs past its time limit is interrupted; one that cannot be
interrupted, or that kills the kernel, is left out and the notebook is run again without it in a
fresh kernel, so the rest of the notebook (and its questions) still counts. A probe that hangs or
kills the kernel fails alone: the kernel is rebuilt the same way and the next probe runs.
"""
import builtins
import json
import os
import shutil
import subprocess
import sys
import tempfile

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets.config import Config

GRACE = 10  # seconds an interrupted cell has to give the kernel back before the kernel is killed
NO_KERNEL = 75  # exit status: the kernel never started (twice); the grader's sign of an infrastructure failure
HERE = os.path.dirname(os.path.abspath(__file__))
# Read once, before any student code runs: the probes reach the kernel from this copy, not from the
# file, which the notebook could rewrite.
with open(os.path.join(HERE, "kernel_probes.py")) as _f:
    PROBE_SOURCE = _f.read()
# Set by the grader when it is root (sandbox.Uids): the kernel runs under this uid and group, not the
# driver's, so the notebook cannot signal, trace or read this process. None: one uid for both.
STUDENT = ((int(os.environ["LAB8_STUDENT_UID"]), int(os.environ["LAB8_STUDENT_GID"]))
           if os.environ.get("LAB8_STUDENT_UID") else None)
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"


def as_student(argv):
    """argv run under the student's uid and group, with no capability and no way to gain one."""
    uid, gid = STUDENT
    return [SETPRIV, f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--inh-caps=-all", "--bounding-set=-all",
            "--no-new-privs", "--", *argv]


class StudentKernelManager(AsyncKernelManager):
    """Starts the kernel under the student's uid (as_student). jupyter_client writes the connection file
    for this uid only (0600): the kernel is given a copy its group may read; its sockets, made with the
    driver's umask (007) in the runtime folder (setgid, the student's group), are ones the driver can reach."""

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if STUDENT is None:
            return cmd
        own = os.path.realpath(self.connection_file)
        shared = os.path.join(os.environ["JUPYTER_RUNTIME_DIR"], "student-" + os.path.basename(own))
        with open(own, "rb") as f:
            info = f.read()
        fd = os.open(shared, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o640)
        with os.fdopen(fd, "wb") as f:
            f.write(info)
        return as_student([shared if arg == own else arg for arg in cmd])


def undumpable():
    """No other process of this uid (the kernel) may read or write this one's memory or descriptors
    through /proc: prctl(PR_SET_DUMPABLE, 0)."""
    import ctypes
    try:
        ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def builtin_name(name):
    """An exception name the judge may show: only built-in ones (a student's class name is theirs)."""
    return name if isinstance(getattr(builtins, name, None), type) else "an exception"


def aside(client, cell, index=0):
    """Run a cell of the grader's own (a probe, a set-up line) in the notebook's kernel. nbclient's
    execute_cell stores the cell it ran at `index` in the notebook: the notebook's own cell is put back, or
    its first cell would be lost (or shown as the grader's in executed.ipynb)."""
    cells = client.nb.cells
    kept = cells[index] if index < len(cells) else None
    try:
        client.execute_cell(cell, index, store_history=False)
    finally:
        if kept is not None:
            cells[index] = kept


class CellWatch:
    """Ends a cell by what it did, not by how busy the machine is: a cell may use `cpu_limit` seconds of CPU
    (the kernel and what it started, all threads), and one that has used almost no CPU for `idle_limit`
    seconds is stuck (waiting on nothing). A loaded machine or a CPU quota stretches the wall time of
    honest work, never its CPU time. On either, SIGINT; GRACE seconds later, SIGKILL."""
    POLL, IDLE_WINDOW, IDLE_CPU = 0.5, 30.0, 0.5

    def __init__(self, pid, cpu_limit, idle_limit):
        import threading
        self.pid, self.cpu_limit, self.idle_limit = pid, cpu_limit, idle_limit
        self.fired = None      # "cpu" or "idle" once it stepped in
        self.done = threading.Event()
        self.thread = threading.Thread(target=self.watch, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()

    def cpu(self):
        import psutil
        try:
            procs = [psutil.Process(self.pid)]
            procs += procs[0].children(recursive=True)
        except psutil.Error:
            return None
        total = 0.0
        for k, proc in enumerate(procs):
            try:
                t = proc.cpu_times()
                total += t.user + t.system + (t.children_user + t.children_system if k == 0 else 0.0)
            except psutil.Error:
                pass
        return total

    def watch(self):
        import time
        start_cpu, start = self.cpu(), time.monotonic()
        if start_cpu is None:
            return
        recent = [(start, start_cpu)]
        while not self.done.wait(self.POLL):
            now, used = time.monotonic(), self.cpu()
            if used is None:
                return
            recent = [(t, c) for t, c in recent if now - t <= self.IDLE_WINDOW] + [(now, used)]
            idle = now - recent[0][0] >= self.IDLE_WINDOW * 0.9 and used - recent[0][1] < self.IDLE_CPU
            if used - start_cpu > self.cpu_limit:
                self.fired = "cpu"
            elif now - start > self.idle_limit and idle:
                self.fired = "idle"
            if self.fired:
                self.stop()
                return

    def stop(self):
        import signal
        try:
            os.kill(self.pid, signal.SIGINT)
        except OSError:
            return
        if not self.done.wait(GRACE):
            try:
                os.kill(self.pid, signal.SIGKILL)   # it would not stop: the cell is left out next time
            except OSError:
                pass


class Run:
    def __init__(self, workdir):
        self.workdir = workdir
        self.grading = os.path.join(workdir, "_grading")
        self.out = os.path.join(self.grading, "out")
        os.makedirs(self.out, exist_ok=True)
        with open(os.path.join(self.grading, "run.json")) as f:
            self.spec = json.load(f)
        self.status = {"kernel_starts": 0, "infrastructure": None, "cells": {}, "probes": {},
                       "skipped": [], "finished": False}
        self.skip = set()   # code cells left out of later runs (they hung or killed the kernel)

    def save(self):
        tmp = os.path.join(self.out, "status.json.part")
        with open(tmp, "w") as f:
            json.dump(self.status, f)
        os.replace(tmp, os.path.join(self.out, "status.json"))

    def client(self, nb):
        config = Config()
        # IPC sockets instead of TCP ports: nothing to collide with when kernels start side by side.
        # Their path must be absolute (the default is relative to each process's folder) and short
        # (< 108 bytes): the private runtime folder made in main().
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(os.environ["JUPYTER_RUNTIME_DIR"], "k")
        # nbclient's own limit is wall-clock time: only the whole run's backstop here (CellWatch ends a cell
        # by its CPU time); probes set their own
        return NotebookClient(nb, config=config, kernel_name="python3", timeout=self.spec["run_timeout"],
                              kernel_manager_class=StudentKernelManager,
                              allow_errors=True, interrupt_on_timeout=False, record_timing=False,
                              startup_timeout=60, resources={"metadata": {"path": self.workdir}})

    def responsive(self, client, index):
        """After a timeout: interrupt, then see whether the kernel answers within GRACE seconds."""
        run_sync(client.km.interrupt_kernel)()
        cell = nbformat.v4.new_code_cell("pass")
        saved, client.timeout = client.timeout, GRACE
        try:
            aside(client, cell, index)
            return True
        except (CellTimeoutError, DeadKernelError):
            return False
        finally:
            client.timeout = saved

    def run_notebook(self, client, nb, first):
        """Execute every code cell not in self.skip. Returns the index of a cell that must be left
        out next time (it hung past interruption or killed the kernel), or None."""
        # IPython's exit()/quit() end the kernel after their cell has finished, so the next cell or
        # probe would die for it: as in a notebook someone is reading, grading keeps the kernel.
        aside(client, nbformat.v4.new_code_cell("get_ipython().ask_exit = lambda *a, **k: None"))
        pid = client.km.provisioner.process.pid
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or index in self.skip:
                continue
            key = str(index)
            watch = CellWatch(pid, self.spec["cell_cpu"], self.spec["cell_timeout"])
            try:
                with watch:
                    client.execute_cell(cell, index)
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                state = {"status": "error", "error": builtin_name(errors[0].get("ename", ""))} if errors else {"status": "ok"}
                if watch.fired:
                    state = {"status": "timeout", "limit": watch.fired}
            except CellTimeoutError:   # the run's own wall-clock backstop
                state = {"status": "timeout", "limit": "wall"}
                if not self.responsive(client, index):
                    self.status["cells"][key] = state
                    return index
            except DeadKernelError:
                self.status["cells"][key] = ({"status": "timeout", "limit": watch.fired} if watch.fired
                                             else {"status": "kernel died"})
                return index
            if first or key not in self.status["cells"]:
                self.status["cells"][key] = state
            self.save()
        return None

    def run_probe(self, client, probe):
        """One probe in the student's kernel; True when the kernel survived it."""
        code = (f"exec(compile({PROBE_SOURCE!r}, 'lab8 probes', 'exec'), _lab8_probes := {{}})\n"
                f"_lab8_probes['run'](globals(), {probe!r}, {os.path.join(self.grading, 'in')!r}, {self.out!r})\n"
                "del _lab8_probes")
        cell = nbformat.v4.new_code_cell(code)
        saved, client.timeout = client.timeout, self.spec["probe_timeout"]
        try:
            aside(client, cell)
            errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
            self.status["probes"][probe] = "error" if errors else "ran"
            return True
        except CellTimeoutError:
            self.status["probes"][probe] = "timeout"
            return self.responsive(client, 0)
        except DeadKernelError:
            self.status["probes"][probe] = "kernel died"
            return False
        finally:
            client.timeout = saved
            self.save()

    def start(self, nb):
        """A client for nb with its kernel's start counted; None after a second failed start."""
        client = self.client(nb)
        self.status["kernel_starts"] += 1
        self.save()
        return client

    def failed_start(self, e) -> bool:
        """A kernel that died before replying to kernel_info (no cell ran): True when it is the second."""
        if "kernel_info" not in str(e) and "Kernel died" not in str(e):
            raise e
        self.failed_starts += 1
        if self.failed_starts >= 2:
            self.status["infrastructure"] = "the Python kernel did not start (twice)"
            return True
        return False

    def main(self):
        """1. The notebook in its kernel, then the harvest (its final `snapshots` and `separation`), then that
        kernel and everything the notebook started are killed. 2. The other probes in a fresh kernel that
        holds only the notebook's definitions (definitions_source): nothing the notebook left running — a
        thread, a wrapped library, an exit handler, a process — is there to rewrite what a probe writes."""
        path = os.path.join(self.workdir, self.spec["notebook"])
        nb = nbformat.read(path, as_version=4)
        probes = list(self.spec["probes"])
        first, self.failed_starts = True, 0
        while not self.status["infrastructure"]:
            run_nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # a clean copy for every kernel
            client = self.start(run_nb)
            try:
                with client.setup_kernel():
                    bad = self.run_notebook(client, run_nb, first)
                    if first:
                        nbformat.write(run_nb, os.path.join(self.out, "executed.ipynb"))
                    first = False
                    if bad is not None:
                        self.skip.add(bad)
                        self.status["skipped"] = sorted(self.skip)
                        continue
                    if "harvest" in probes:
                        probes.remove("harvest")
                        self.run_probe(client, "harvest")
                    # killed, not shut down: no exit handler of the notebook's runs
                    run_sync(client.km.shutdown_kernel)(now=True)
                    break
            except RuntimeError as e:
                if self.failed_start(e):
                    break
        end_all_others()
        definitions = definitions_source(nb, self.skip, self.status["cells"], self.defined())
        while probes and not self.status["infrastructure"]:
            # one cell for execute_cell's bookkeeping (`aside`)
            client = self.start(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("pass")]))
            try:
                with client.setup_kernel():
                    self.define(client, definitions)
                    while probes:
                        if not self.run_probe(client, probes.pop(0)):
                            break   # the kernel died or hung: a fresh one for the next probe
                    else:
                        run_sync(client.km.shutdown_kernel)(now=True)
            except RuntimeError as e:
                self.failed_start(e)
            end_all_others()
        self.status["finished"] = True
        self.save()
        return NO_KERNEL if self.status["infrastructure"] else 0

    def defined(self) -> set:
        """The graded names the notebook's run left defined (the harvest's list): a cell that stopped part
        way (an error, a time limit) counts for the definitions it reached. Taken from the notebook's kernel,
        it can only narrow what the notebook itself wrote, never add code of anyone else's."""
        try:
            with open(os.path.join(self.out, "harvest.json")) as f:
                return set(json.load(f).get("defined", []))
        except (OSError, ValueError, AttributeError):
            return set()

    def define(self, client, definitions):
        """The notebook's definitions, one statement at a time (one that fails leaves the others defined)."""
        code = ("get_ipython().ask_exit = lambda *a, **k: None\n"
                f"for _lab8_src in {definitions!r}:\n"
                "    try:\n"
                "        exec(compile(_lab8_src, 'notebook', 'exec'), globals())\n"
                "    except BaseException:\n"
                "        pass\n"
                "del _lab8_src")
        saved, client.timeout = client.timeout, self.spec["cell_timeout"]
        try:
            aside(client, nbformat.v4.new_code_cell(code))
        except (CellTimeoutError, DeadKernelError):
            pass   # the probes then find what is defined, or report the kernel gone
        finally:
            client.timeout = saved


def definitions_source(nb, skip=(), cells=None, defined=()) -> list[str]:
    """The top-level statements of the notebook's code cells that define what the probes call: imports,
    functions, classes, assignments of constants, and the assignments those need by name (e.g. a constant a
    function reads), in notebook order. Expressions and other calls (a training run, a thread started, a
    library patched through an attribute) are left out. Cells as the run left them (`cells`: index → status):
    one left out or never run gives nothing; one that stopped part way gives the functions and classes the
    run did define (`defined`), as the notebook's kernel had them."""
    import ast
    import symtable
    from IPython.core.inputtransformer2 import TransformerManager
    transform = TransformerManager().transform_cell
    nodes, partial = [], set()
    for index, cell in enumerate(nb.cells):
        status = (cells or {}).get(str(index), {}).get("status") if cells is not None else "ok"
        if cell.cell_type != "code" or index in skip or status is None:
            continue
        try:
            body = ast.parse(transform(cell.source)).body
        except SyntaxError:
            continue
        if status != "ok":
            partial |= {id(node) for node in body}
        nodes += body

    def names_in(node):
        """The global names node reads (not its functions' parameters or locals): from Python's symtable."""
        found = set()

        def walk(table):
            for sym in table.get_symbols():
                if sym.is_referenced() and (table.get_type() == "module" or sym.is_global()):
                    found.add(sym.get_name())
            for child in table.get_children():
                walk(child)
        walk(symtable.symtable(ast.unparse(node), "notebook", "exec"))
        return found

    def assigned(node):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if all(isinstance(t, ast.Name) for t in targets):
            return {t.id for t in targets}
        return None   # an attribute or item assigned (`np.save = …`): never a definition

    keep, candidates, needed = set(), {}, set()
    for i, node in enumerate(nodes):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and id(node) in partial \
                and node.name not in defined:
            continue   # its cell stopped before this definition ran
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            keep.add(i)
            needed |= names_in(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and assigned(node):
            try:
                ast.literal_eval(node.value)
                keep.add(i)
            except ValueError:
                candidates[i] = assigned(node)
    changed = True
    while changed:   # the assignments the kept code reads, and what those read in turn
        changed = False
        for i, targets in candidates.items():
            if i not in keep and targets & needed:
                keep.add(i)
                needed |= names_in(nodes[i].value)
                changed = True
    return [ast.unparse(nodes[i]) for i in sorted(keep)]


def end_all_others():
    """Kill the notebook's kernel and whatever it started. Under two uids: every process of the student's uid
    (end_student_processes). Under one uid, only in bubblewrap's PID namespace, where kill(-1) reaches this
    run's processes alone (the kernel holds the task list while it signals, so a process forking in a loop
    cannot slip past)."""
    if STUDENT is not None:
        end_student_processes(STUDENT[0])
    elif os.environ.get("LAB8_SANDBOX_PID_NAMESPACE") == "1":
        try:
            os.kill(-1, 9)
        except OSError:
            pass


def end_student_processes(uid):
    """Stop, then kill, every live process of uid, round after round until none is left: a stopped process
    forks no more. Done by the driver itself (CAP_KILL): a process limit the notebook filled cannot keep a
    process of the student's uid from starting here, since none is started."""
    import signal
    import time

    import psutil
    for _ in range(200):
        pids = []
        for proc in psutil.process_iter(["uids", "status"]):
            try:
                if proc.info["uids"].real == uid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                    pids.append(proc.pid)
            except (psutil.Error, AttributeError):
                continue
        if not pids:
            return
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        time.sleep(0.05)


if __name__ == "__main__":
    # A socket path may not exceed 107 bytes, so the kernel's runtime folder is a short one in /tmp
    # (private to this sandbox under bubblewrap, mode 700 otherwise), not one inside WORKDIR.
    # Under two uids it is the driver's, setgid to the student's group (the kernel reads its copy of the
    # connection file and makes its sockets there), in /tmp itself: sticky, the student cannot move it.
    if STUDENT is not None:
        os.umask(0o007)
    runtime = os.environ["JUPYTER_RUNTIME_DIR"] = tempfile.mkdtemp(prefix="lab8k", dir="/tmp")
    if STUDENT is not None:
        os.chown(runtime, -1, STUDENT[1])
        os.chmod(runtime, 0o2770)
    undumpable()
    status = Run(os.path.abspath(sys.argv[1])).main()
    # Under bubblewrap every process here dies with the namespace, but only after this driver has exited: a
    # process of the notebook's that waits for that moment could still change what the judge reads.
    # kill(-1) reaches every other process at once (the kernel holds the task list while it signals, so a
    # process forking in a loop cannot slip past).
    end_all_others()
    sys.exit(status)
