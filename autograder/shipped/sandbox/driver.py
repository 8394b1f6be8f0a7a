"""The student side of grading: run one submitted notebook, then the judge's probes on what its run left.

    python -I driver.py WORKDIR        stdin: the probes' inputs; $LAB8_REPORT_FD: the pipe to the grader

Runs inside the sandbox (sandbox/__init__.py) before any student code, under a uid of its own where the
grader is root (the kernel then runs as the student: it cannot signal, trace or read this process).

  1. start   read stdin whole (the judge's inputs for the probes: they never touch a file the notebook
             could read) and the kernel's sources (probe_kernel.py, kernel_probes.py, wire.py: a notebook
             that rewrites _grading/bin later changes nothing)
  2. cells   run the notebook's code cells in a kernel started by probe_kernel.py (the probe runner is in
             place before the first cell). CellWatch ends a cell by its CPU or idle time; the cells together
             have the run's wall time (run.json). A cell that will not stop, or that kills the kernel, is
             left out and the notebook run again without it in a fresh kernel, while time is left, so the
             rest of the notebook (and its questions) still counts.
  3. probes  the kernel is forked (probe_kernel.py), the kernel and every other process of the run are
             killed, and each probe runs in a process of its own forked from that copy, with its own time
             limit: time the cells used is not the probes'. A probe that hangs or dies fails alone.
  4. report  everything goes to the grader as it happens, on the pipe it gave this process: the cells'
             states, which probe ran and how it ended, each probe's outputs, the executed notebook. Nothing
             is left in a file for the judge to read: the student side can write files, not this pipe.
"""
import warnings
warnings.filterwarnings("ignore", message="IPython dir .* is not a writable location")  # not the driver's either

import builtins
import copy
import json
import os
import re
import secrets
import shutil
import signal
import stat
import sys
import tempfile
import time

import nbformat
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from traitlets.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)   # -I leaves this folder out; wire.py is beside this file (read now, at the start)
import protocol  # noqa: E402
import wire  # noqa: E402
from protocol import NO_KERNEL, PROBE_FILES  # noqa: E402

GRACE = 10        # seconds an interrupted cell has to give the kernel back before the kernel is killed
FORK_WAIT = 30    # seconds the kernel has to answer "fork" (it only has to be alive, not idle)
MAX_PROBE_BYTES = 1 << 30
MAX_LEFT_BYTES = 200 << 20   # the notebook's CSV: more than 20 times the largest shipped variant's
# Read once, before any student code runs: every kernel of this grading starts from these.
SOURCES = {}
for _name in ("probe_kernel.py", "kernel_probes.py", "wire.py"):
    with open(os.path.join(HERE, _name)) as _f:
        SOURCES[_name] = _f.read()
# Set by the grader when it is root (sandbox/uids.py): the kernel runs under this uid and group, not the
# driver's, so the notebook cannot signal, trace or read this process. None: one uid for both.
STUDENT = (tuple(int(os.environ[k]) for k in protocol.STUDENT_ENV) if os.environ.get(protocol.STUDENT_ENV[0])
           else None)
SETPRIV = shutil.which("setpriv") or "/usr/bin/setpriv"


def as_student(argv):
    """argv run under the student's uid and group, with no capability and no way to gain one."""
    return [*protocol.to_student(*STUDENT, setpriv=SETPRIV), *argv]


class StudentKernelManager(AsyncKernelManager):
    """Starts the kernel through probe_kernel.py (the probe runner first, the probe line on `line_fd`), under
    the student's uid where there are two (as_student). jupyter_client writes the connection file for this
    uid only (0600): the kernel is given a copy its group may read; its sockets, made with the driver's umask
    (007) in the runtime folder (setgid, the student's group), are ones the driver can reach."""
    line_fd = -1

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        connection = os.path.realpath(self.connection_file)
        if STUDENT is not None:
            shared = os.path.join(os.environ["JUPYTER_RUNTIME_DIR"], "student-" + os.path.basename(connection))
            with open(connection, "rb") as f:
                info = f.read()
            fd = os.open(shared, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, 0o640)
            with os.fdopen(fd, "wb") as f:
                f.write(info)
            connection = shared
        program = SOURCES["probe_kernel.py"] + f"\nmain(sys.argv, {SOURCES['wire.py']!r}, {SOURCES['kernel_probes.py']!r})\n"
        kernel = [cmd[0], "-I", "-c", program, "--lab8-line", str(self.line_fd), "-f", connection]
        return as_student(kernel) if STUDENT is not None else kernel


def undumpable():
    """No other process of this uid (the kernel, where there is one uid) may read or write this one's memory
    or descriptors through /proc (the probes' inputs, the report pipe): prctl(PR_SET_DUMPABLE, 0). And this
    process becomes the reaper of what the kernel leaves when it dies (PR_SET_CHILD_SUBREAPER)."""
    import ctypes
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(4, 0, 0, 0, 0)
        libc.prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def builtin_name(name):
    """An exception name the judge may show: only built-in ones (a student's class name is theirs)."""
    return name if isinstance(getattr(builtins, name, None), type) else "an exception"


def aside(client, cell, index=0):
    """Run a cell of the grader's own (a set-up line) in the notebook's kernel. nbclient's execute_cell
    stores the cell it ran at `index` in the notebook: the notebook's own cell is put back, or its first cell
    would be lost (or shown as the grader's in executed.ipynb)."""
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
        """CPU seconds of everything the notebook started since the kernel did, wherever it was reparented
        (run_processes), with what each has collected of its own finished children, and what this driver
        collected of the orphans handed to it (REAPED). None once the kernel is gone."""
        import psutil
        try:
            psutil.Process(self.pid)
        except psutil.Error:
            return None
        total = REAPED[0]
        for proc in run_processes(self.pid):
            try:
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                pass
        return total

    def watch(self):
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
    def __init__(self, workdir, inputs: bytes, report_fd: int):
        self.workdir = workdir
        self.report_fd = report_fd
        with open(os.path.join(workdir, *protocol.RUN_FILE)) as f:
            self.spec = json.load(f)
        self.inputs = wire.decode(inputs) if inputs else ({}, {})
        self.status = {"kernel_starts": 0, "infrastructure": None, "cells": {}, "probes": {},
                       "skipped": [], "finished": False, "probe_timeout": self.spec["probe_timeout"], "seconds": {}}
        self.began = time.monotonic()
        self.skip = set()   # code cells left out of later runs (they hung or killed the kernel)
        self.failed_starts = 0
        self.left_sent = False

    # -------------------------------------------------------------------------------- the report
    def save(self):
        """The run's state so far, to the grader (a run cut off at the time limit still says how far it got)."""
        wire.write_frame(self.report_fd, {"op": "status", "status": self.status})

    def send_executed(self, nb):
        wire.write_frame(self.report_fd, {"op": "executed"}, {"executed.ipynb": nbformat.writes(nb).encode()})

    def send_left(self):
        """The CSV the notebook's run left beside it, read once the kernel and everything it started are dead
        (nothing a probe does later changes what the judge reads as the run's): a plain file only, never
        through a link, at most MAX_LEFT_BYTES."""
        name, data = self.spec.get("csv_name"), None
        if self.left_sent or not name:
            return
        self.left_sent = True
        try:
            fd = os.open(os.path.join(self.workdir, name), os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            fd = None
        if fd is not None:
            with os.fdopen(fd, "rb") as f:
                info = os.fstat(f.fileno())
                if stat.S_ISREG(info.st_mode) and info.st_size <= MAX_LEFT_BYTES:
                    data = f.read(MAX_LEFT_BYTES + 1)
        wire.write_frame(self.report_fd, {"op": "left", "found": data is not None,
                                          "problem": None if data is not None or fd is None else "not a plain file"},
                         {"notebook.csv": data} if data is not None and len(data) <= MAX_LEFT_BYTES else None)

    # -------------------------------------------------------------------------------- the cells
    def client(self, nb, line_fd):
        config = Config()
        # IPC sockets instead of TCP ports: nothing to collide with when kernels start side by side.
        # Their path must be absolute (the default is relative to each process's folder) and short
        # (< 108 bytes): the private runtime folder made in main().
        config.KernelManager.transport = "ipc"
        config.KernelManager.ip = os.path.join(os.environ["JUPYTER_RUNTIME_DIR"], "k")
        manager = type("KernelManager", (StudentKernelManager,), {"line_fd": line_fd})
        # nbclient's own limit is wall-clock time: set before each cell to what is left of the cells' time
        # (CellWatch ends a cell by its CPU time)
        return NotebookClient(nb, config=config, kernel_name="python3", kernel_manager_class=manager,
                              timeout=self.spec["run_timeout"], allow_errors=True,
                              interrupt_on_timeout=False, record_timing=False, startup_timeout=60,
                              resources={"metadata": {"path": self.workdir}})

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
        """Execute every code cell not in self.skip, within the cells' time. Returns (index, why): a cell to
        leave out next time (it hung past interruption or killed the kernel: why "hung" or "died"), or
        (None, "deadline") when the cells' time ran out, or (None, None) when every cell ran."""
        pid = client.km.provisioner.process.pid
        KEEP.add(pid)   # jupyter_client's Popen waits for it, not the orphans' reaper
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code" or index in self.skip:
                continue
            left = self.deadline - time.monotonic()
            if left <= 1:
                return None, "deadline"
            key = str(index)
            client.timeout = int(left)
            watch = CellWatch(pid, self.spec["cell_cpu"], self.spec["cell_timeout"])
            try:
                with watch:
                    client.execute_cell(cell, index)
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                state = {"status": "error", "error": builtin_name(errors[0].get("ename", ""))} if errors else {"status": "ok"}
                if watch.fired:
                    state = {"status": "timeout", "limit": watch.fired}
            except CellTimeoutError:   # the cells' wall time is over
                self.status["cells"][key] = {"status": "timeout", "limit": "wall"}
                self.save()
                return (None if self.responsive(client, index) else index), "deadline"
            except DeadKernelError:
                self.status["cells"][key] = ({"status": "timeout", "limit": watch.fired} if watch.fired
                                             else {"status": "kernel died"})
                return index, "died"
            if first or key not in self.status["cells"]:
                self.status["cells"][key] = state
            self.save()
        return None, None

    def start(self, nb, line_fd):
        """A client for nb with its kernel's start counted."""
        client = self.client(nb, line_fd)
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
        """The notebook's cells in a kernel started by probe_kernel.py, then the probes on what they left."""
        path = os.path.join(self.workdir, self.spec["notebook"])
        nb = nbformat.read(path, as_version=4)
        self.deadline = time.monotonic() + self.spec["run_timeout"]
        first = True
        while not self.status["infrastructure"]:
            run_nb = nbformat.from_dict(copy.deepcopy(nb))  # a clean copy for every kernel
            line, theirs = wire.line_pair()
            client = self.start(run_nb, theirs.fileno())
            try:
                with client.setup_kernel(pass_fds=(theirs.fileno(),)):
                    theirs.close()
                    self.lap("kernel")
                    bad, why = self.run_notebook(client, run_nb, first)
                    self.lap("cells")
                    if first:
                        self.send_executed(run_nb)
                    first = False
                    if bad is not None:
                        self.skip.add(bad)
                        self.status["skipped"] = sorted(self.skip)
                        if why == "died" and self.deadline - time.monotonic() > 5:
                            continue     # again without that cell
                    if why == "died":
                        self.no_probes("the notebook's kernel was not running when the cells' time ran out")
                    else:
                        Probes(self, client, line).run_all()
                        self.lap("probes")
                    break
            except RuntimeError as e:
                theirs.close()
                if self.failed_start(e):
                    break
            finally:
                line.close()
        end_all_others()
        self.send_left()
        self.status["finished"] = True
        self.save()
        return NO_KERNEL if self.status["infrastructure"] else 0

    def lap(self, step):
        """Seconds since the last lap, added to status["seconds"][step] (the kernel's start, the cells, the probes)."""
        now = time.monotonic()
        seconds = self.status["seconds"]
        seconds[step] = round(seconds.get(step, 0) + now - self.began, 2)
        self.began = now

    def no_probes(self, why):
        for probe in self.spec["probes"]:
            self.status["probes"][probe] = {"state": "not run", "why": why}
        self.save()


class Probes:
    """The probes on what the run left (probe_kernel.py has the other side): fork the kernel into the probe
    server, kill the kernel and everything else of the run, hand the server the judge's inputs, then one
    probe at a time, each with its own time limit. Only a message that answers this driver's request (its
    nonce) counts, and only the files the probe may send are passed on."""

    def __init__(self, run: Run, client, line):
        self.run, self.client, self.line, self.fd = run, client, line, line.fileno()
        self.server = None

    def run_all(self):
        run = self.run
        # Nothing the run started but the kernel itself outlives its cells: what it left can neither take
        # the process slots the fork needs nor act while the probes run.
        end_all_others(spare={self.client.km.provisioner.process.pid})
        self.server = self.fork()
        if self.server is None:
            run.no_probes("the notebook's kernel did not answer the grader's request to start the probes")
            return
        run_sync(self.client.km.shutdown_kernel)(now=True)   # killed, not shut down: no exit handler runs
        end_all_others(spare={self.server})
        run.send_left()
        header, blobs = run.inputs
        try:
            wire.send(self.line, {"op": "inputs", "spec": header.get("spec")}, blobs)
            for probe in run.spec["probes"]:
                self.probe(probe)
        except ServerGone as e:
            for probe in run.spec["probes"]:
                run.status["probes"].setdefault(probe, {"state": "not run", "why": str(e), "ended_by": e.by})
        except OSError:   # the server was gone before the first probe
            for probe in run.spec["probes"]:
                run.status["probes"].setdefault(probe, {"state": "lost"})
        finally:
            try:
                wire.send(self.line, {"op": "quit"})
            except OSError:
                pass
            end_all_others()
            run.save()

    def fork(self):
        """The probe server's pid, once it said hello with this request's nonce; None if it never did."""
        nonce = secrets.token_hex(16)
        wire.send(self.line, {"op": "fork", "nonce": nonce})
        deadline = time.monotonic() + FORK_WAIT
        while True:
            try:
                header, _ = wire.receive(self.fd, deadline)
            except wire.WireError:
                return None
            pid = header.get("pid")
            if header.get("op") == "hello" and header.get("nonce") == nonce and \
                    student_process(pid, parent=self.client.km.provisioner.process.pid):
                KEEP.add(pid)   # alive() reaps it, not the orphans' reaper
                return pid

    def probe(self, name):
        run = self.run
        nonce = secrets.token_hex(16)
        wire.send(self.line, {"op": "probe", "probe": name, "nonce": nonce})
        limit = run.spec["probe_timeout"]
        began = time.monotonic()
        deadline, pid, result, ended, killed, server_gone = began + limit, None, None, None, False, False
        while ended is None:
            try:   # in short slices, to see the server die (a student function can kill it: same uid)
                header, blobs = wire.receive(self.fd, min(deadline, time.monotonic() + 0.5), MAX_PROBE_BYTES)
            except wire.Timeout:
                if not alive(self.server):
                    server_gone = True
                    kill_student(pid, parent=None)
                    break
                if time.monotonic() < deadline:
                    continue
                if killed or pid is None:
                    break
                kill_student(pid, parent=self.server)
                killed, deadline = True, time.monotonic() + GRACE
                continue
            except wire.Closed:
                server_gone = True
                break
            if header.get("nonce") != nonce:
                continue
            op = header.get("op")
            if op == "started" and pid is None and student_process(header.get("pid"), parent=self.server):
                pid = header["pid"]
            elif op == "result" and result is None and header.get("probe") == name:
                allowed = re.compile(PROBE_FILES[name])
                result = {k: v for k, v in blobs.items() if allowed.fullmatch(k)}
            elif op == "ended":
                ended = header
        if server_gone:
            end_all_others()
        else:
            end_all_others(spare={self.server})   # nothing of this probe outlives it
        seconds = round(time.monotonic() - began, 2)
        if killed:
            state = {"state": "timeout"}
        elif server_gone:
            state = {"state": "crashed", "why": "the process that ran it ended the probe server"}
        elif ended is None:
            state = {"state": "lost"}       # the server stopped answering: the next probes are lost too
        elif ended.get("signal") is not None:
            sig = ended["signal"]
            state = {"state": "killed" if sig == signal.SIGKILL else "crashed", "signal": int(sig)}
        elif result is None or ended.get("exit") != 0:
            state = {"state": "exited", "exit": ended.get("exit")}
        else:
            state = {"state": "ran"}
        state["seconds"] = seconds
        run.status["probes"][name] = state
        wire.write_frame(run.report_fd, {"op": "probe", "probe": name, **state},
                         result if state["state"] == "ran" else None)
        run.save()
        if server_gone:
            raise ServerGone("an earlier probe's process ended the probe server", by=name)
        if state["state"] == "lost":
            raise ServerGone("the probe server stopped answering the grader")


class ServerGone(Exception):
    """The probe server is gone: the probes after this one cannot run (the message says why; `by`: the probe
    whose process ended it, a student's function)."""

    def __init__(self, why, by=None):
        super().__init__(why)
        self.by = by


# ---------------------------------------------------------------------------------------- processes
def _own_uid_space() -> bool:
    """One uid for the driver and the kernel, in bubblewrap's PID namespace: every other process here is the run's."""
    return STUDENT is None and os.environ.get("LAB8_SANDBOX_PID_NAMESPACE") == "1"


def student_process(pid, parent=None) -> bool:
    """Whether pid (a number the student side sent) is one of the run's processes this driver may signal: of
    the student's uid (or, under one uid, of this namespace), not this driver, and a child of `parent`
    when given. A number the student side names is never trusted to be one of its own until checked."""
    import psutil
    if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1 or pid == os.getpid():
        return False
    try:
        proc = psutil.Process(pid)
        if parent is not None and proc.ppid() != parent:
            return False
        uid = proc.uids().real
    except psutil.Error:
        return False
    if STUDENT is not None:
        return uid == STUDENT[0]
    return uid == os.getuid()


def alive(pid) -> bool:
    """Whether pid still runs (reaping it when it is this process's child: the subreaper's, once its parent died)."""
    import psutil
    try:
        if os.waitpid(pid, os.WNOHANG)[0] == pid:
            return False
    except ChildProcessError:
        pass
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def kill_student(pid, parent=None):
    if student_process(pid, parent):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def end_all_others(spare=()):
    """Kill the notebook's kernel and whatever it started, but `spare` (the probe server). Under two uids:
    every process of the student's uid; under one uid, only in bubblewrap's PID namespace, every process but
    this one and the namespace's first. Stopped, then killed, round after round until none is left: a stopped
    process forks no more. Done by the driver itself (CAP_KILL under two uids): a process limit the notebook
    filled cannot keep it from happening, since nothing is started for it."""
    if STUDENT is not None:
        end_processes(lambda uid: uid == STUDENT[0], spare)
    elif _own_uid_space():
        end_processes(lambda uid: uid == os.getuid(), spare)
    reap()


def end_processes(whose, spare=()):
    import psutil
    spare = set(spare) | {os.getpid(), 1}
    for _ in range(200):
        pids = []
        for proc in psutil.process_iter(["uids", "status"]):
            try:
                if proc.pid not in spare and whose(proc.info["uids"].real) and proc.info["status"] != psutil.STATUS_ZOMBIE:
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


def end_student_processes(uid):
    end_processes(lambda u: u == uid)


KEEP = set()   # this driver's own children, waited for where they were started: never reaped as orphans
REAPED = [0.0]   # CPU seconds of the orphans reaped here (and of the children they collected): the cells' own


def run_processes(kernel):
    """The processes whose CPU is the cells': every process of the student's uid where it has one of its own
    (no other process has it, however it was started or reparented); in bubblewrap's PID namespace with one uid,
    every process but this driver and the namespace's first; with no containment, the kernel and its
    descendants (all that can be told apart from the grader's own)."""
    import psutil
    me = os.getpid()
    if STUDENT is not None or os.environ.get("LAB8_SANDBOX_PID_NAMESPACE"):
        found = []
        for proc in psutil.process_iter(["uids"]):
            try:
                if proc.pid in (me, 1) or proc.pid in KEEP and proc.pid != kernel:
                    continue
                if STUDENT is None or proc.info["uids"].real == STUDENT[0]:
                    found.append(proc)
            except (psutil.Error, AttributeError):
                continue
        return found
    try:
        root = psutil.Process(kernel)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def reap_orphans():
    """The subreaper's duty while the cells run: what the notebook orphaned ends as this driver's zombie, and
    zombies count against the uid's process limit (a process that forks and exits every few milliseconds would
    fill it in a second, and the kernel could then fork no probe server). Collected every 0.1 s, all but KEEP;
    their CPU seconds are kept in REAPED (they were the cells')."""
    import psutil
    me = psutil.Process()
    while True:
        time.sleep(0.1)
        try:
            children = me.children()
        except psutil.Error:
            continue
        for child in children:
            if child.pid not in KEEP:
                try:
                    pid, _, usage = os.wait4(child.pid, os.WNOHANG)
                except ChildProcessError:
                    continue
                if pid:
                    REAPED[0] += usage.ru_utime + usage.ru_stime


def reap():
    """Collect the processes handed to this one (the subreaper) once their parent died."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


if __name__ == "__main__":
    report = int(os.environ.get("LAB8_REPORT_FD", wire.REPORT_FD))
    os.set_inheritable(report, False)   # the kernel and what it starts never get it
    inputs = sys.stdin.buffer.read()    # the judge's inputs, whole, before anything of the notebook's runs
    os.close(0)
    os.open(os.devnull, os.O_RDONLY)
    undumpable()
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
    import threading
    threading.Thread(target=reap_orphans, daemon=True).start()
    status = Run(os.path.abspath(sys.argv[1]), inputs, report).main()
    # Under bubblewrap every process here dies with the namespace, but only after this driver has exited: a
    # process of the notebook's that waits for that moment could still change a file the grader keeps (the CSV).
    end_all_others()
    sys.exit(status)
