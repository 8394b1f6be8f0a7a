"""The notebook's kernel, started with the probe runner in place before any notebook code runs.

    python -I -c "<this file, then main() given wire.py and kernel_probes.py>" --lab8-line FD -f CONNECTION_FILE

The driver starts every kernel of a grading so, from sources it read before any notebook code ran (so a
notebook that rewrites _grading/bin changes nothing). Before IPython starts, this file takes the probe line
(FD: one end of a seqpacket pair whose other end only the driver holds; the notebook's own subprocesses
never get it), executes the probes (kernel_probes.py: numpy, torch and the references they use are taken
now), and starts a waiting thread. Then IPython's kernel starts without reading any configuration or startup
file (not the profile's, the working folder's or $PYTHONSTARTUP: a notebook that writes one changes no later
kernel) and with `exit()` kept from ending the kernel (as in a notebook someone is reading).

The probes, once the notebook's run is over (driver.py):
  1. the driver sends "fork"; the waiting thread forks the kernel. The child — the *probe server* — holds
     exactly the objects the run left (the notebook's namespace, its classes and functions however they
     were written) and only this thread: threads the notebook started are gone. It starts a session of its
     own (a signal to the kernel's group misses it), runs torch on one thread (GNU OpenMP's pool does not
     survive a fork), and says hello. The driver then kills the kernel and every other process of the run.
  2. the driver sends the judge's inputs (only now: no notebook code ran while they existed here), then
     each probe in turn; for each, the server forks a *probe process*, which announces itself, calls the
     student's function on those inputs (kernel_probes.run_probe), sends the result and exits. The server
     waits for it and reports how it ended (its exit status or signal). A probe that hangs is killed by the
     driver; nothing one probe changes is seen by the next.
What is sent goes straight to the driver: no file the notebook could write is read by anyone.
"""
import os
import signal
import sys
import threading
import types

def _module(name: str, source: str) -> types.ModuleType:
    module = types.ModuleType(name)
    exec(compile(source, name, "exec"), module.__dict__)
    return module


class Runner:
    """The probe side of the line: the kernel's waiting thread, then the probe server and its probes."""

    def __init__(self, fd: int, wire, probes):
        self.fd, self.wire, self.probes = fd, wire, probes
        self.namespace = {}
        self.spec, self.arrays = None, {}
        # held now, before any notebook code runs
        self._fork, self._exit, self._waitpid, self._getpid, self._setsid = os.fork, os._exit, os.waitpid, os.getpid, os.setsid
        self._signal, self._settrace, self._setprofile = signal.signal, sys.settrace, sys.setprofile
        self._set_threads = probes.torch.set_num_threads
        self._status = (os.WIFEXITED, os.WEXITSTATUS, os.WIFSIGNALED, os.WTERMSIG)
        self._stderr = os.dup(2)

    def wait(self):
        """The kernel's waiting thread: fork on the driver's word (at the end of the notebook's run)."""
        wire = self.wire
        while True:
            try:
                header, _ = wire.receive(self.fd)
            except wire.Closed:
                return
            except wire.WireError:
                continue
            if header.get("op") == "fork" and self._fork() == 0:
                try:
                    self.serve(str(header.get("nonce")))
                finally:
                    self._exit(70)

    def quiet(self):
        """A forked process of the kernel: no tracer or profiler of the notebook's, default signal handling,
        printing to the grading log (the kernel's streams need threads this process no longer has), torch on
        one thread."""
        self._settrace(None)
        self._setprofile(None)
        threading.settrace(None)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGALRM, signal.SIGUSR1, signal.SIGUSR2,
                    signal.SIGCHLD, signal.SIGPIPE):
            try:
                self._signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass
        sys.stdout = sys.stderr = open(self._stderr, "w", buffering=1, closefd=False)
        self._set_threads(1)

    def serve(self, nonce: str):
        """The probe server: hello, the inputs, then one probe process per probe."""
        wire = self.wire
        self._setsid()
        self.quiet()
        wire.send_fd(self.fd, {"op": "hello", "nonce": nonce, "pid": self._getpid()})
        exited, exit_code, signalled, signal_number = self._status
        while True:
            try:
                header, blobs = wire.receive(self.fd)
            except wire.Closed:
                self._exit(0)
            except wire.WireError:
                continue
            op = header.get("op")
            if op == "inputs":
                self.spec, self.arrays = header.get("spec"), self.probes.load_arrays(blobs)
            elif op == "probe" and self.spec is not None:
                pid = self._fork()
                if pid == 0:
                    try:
                        self.probe(str(header.get("probe")), str(header.get("nonce")))
                    finally:
                        self._exit(71)
                _, status = self._waitpid(pid, 0)
                wire.send_fd(self.fd, {"op": "ended", "nonce": header.get("nonce"), "pid": pid,
                                       "exit": exit_code(status) if exited(status) else None,
                                       "signal": signal_number(status) if signalled(status) else None})
            elif op == "quit":
                self._exit(0)

    def probe(self, name: str, nonce: str):
        """A probe process: announce, call the student's function, send what it gave, exit."""
        wire = self.wire
        wire.send_fd(self.fd, {"op": "started", "nonce": nonce, "pid": self._getpid()})
        report, blobs = self.probes.run_probe(self.namespace, name, self.spec, self.arrays)
        blobs[name + ".json"] = wire._dumps(report).encode()
        wire.send_fd(self.fd, {"op": "result", "nonce": nonce, "probe": name}, blobs)
        self._exit(0)


def main(argv, wire_source: str, probes_source: str):
    """The kernel (argv: this process's); the sources are the ones the driver read at its start."""
    fd = int(argv[argv.index("--lab8-line") + 1])
    connection_file = argv[argv.index("-f") + 1]
    os.set_inheritable(fd, False)   # a fork keeps it; a program the notebook starts does not get it
    wire = _module("lab8_wire", wire_source)
    probes = _module("lab8_probes", probes_source)
    runner = Runner(fd, wire, probes)
    threading.Thread(target=runner.wait, name="lab8-probes", daemon=True).start()

    import warnings
    warnings.filterwarnings("ignore", message=".*multi-threaded, use of fork")   # the fork is made for that
    # IPython's folder is not the kernel's to write (nothing in it would be read anyway): IPython then keeps
    # what it must write in a temporary folder, and says so
    warnings.filterwarnings("ignore", message="IPython dir .* is not a writable location")
    sys.path.insert(0, "")   # the notebook's folder first, as in any Jupyter kernel (-I leaves it out)
    from ipykernel.kernelapp import IPKernelApp

    class Lab8KernelApp(IPKernelApp):
        def load_config_file(self, *args, **kwargs):
            pass    # no ipython_config.py / ipython_kernel_config.py from anywhere

        def _run_startup_files(self):
            pass    # no profile startup folder, no $PYTHONSTARTUP

    app = Lab8KernelApp.instance()
    app.initialize(["-f", connection_file, "--HistoryManager.enabled=False"])
    app.shell.ask_exit = lambda *args, **kwargs: None
    runner.namespace = app.shell.user_ns
    app.start()


def command(wire_source: str, probes_source: str, launcher_source: str) -> str:
    """The `python -c` program that starts a kernel this way (the driver's, from the sources it holds)."""
    return f"{launcher_source}\nmain(sys.argv, {wire_source!r}, {probes_source!r})\n"
