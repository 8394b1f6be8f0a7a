"""The hidden checks and the score: judged on the judge side from plain data and its own answers.

Each check reads the student side's evidence (probe outputs, the arrays and the CSV the whole run left
behind) and compares it with what reference.py and probes.py computed; it raises Fail with one line
that says what is wrong in the notebook's words, never an expected value or text the student wrote.
The score is built from the config's question list: each question's points are shared evenly by its
checks and the sum is clamped to [0, points]. Nothing the student side writes can add a question,
change a maximum or skip a check.
"""
from __future__ import annotations

import re
import tempfile
import traceback
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import numpy as np

from replab.mantis import MantisFormatError, read_mantis_csv

from .evidence import Evidence, Unusable
from .probes import HOOK_BATCHES, SEPARATION_CASES, TRAIN_EPOCHS, Expected, distance
from solutions.kinds import KINDS
from solutions.separation import separation_ratio

from .reference import READINGS, LabReference

# Honest styles differ from the reference by float rounding only: at most 1.3e-6 of the values' scale
# over the 11 snapshots of every variant (threads, batch sizes of the snapshot pass, own full-batch
# loops; bench/tolerance notes in the tests). The slips the checks must catch differ by 9e-2 or more.
REL_TOL = 1e-3
NOTEBOOK_CSV = "notebook.csv"   # the report's copy of the CSV the notebook's run left (CSV_NAME)


class Fail(Exception):
    """A failed check; its message is shown to the student as one line."""


class GraderLimit(Fail):
    """A check the grader could not make for a reason that is not the notebook's (a probe process killed
    from outside, a name the run defined that a probe could not reach): never charged to the student — the
    grading is tried once more, then left to a TA (grade.py)."""

    def __init__(self, what: str, why: str):
        super().__init__(f"{what} could not be checked: {why}. This is the grader's limitation, not your "
                         "notebook's fault; a TA will regrade it")
        self.why = why


def close(got, want, rel=REL_TOL) -> bool:
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape or not np.isfinite(got).all():
        return False
    scale = max(float(np.abs(want).max(initial=0.0)), 1e-6)
    return float(np.abs(got - want).max(initial=0.0)) <= rel * scale


_KNOWN_NAMES = re.compile(r"^(title|categoric|split|snippet|train|test|embedding_epoch_\d+)$")


def student_safe(message: str) -> str:
    """A reader's message with quoted text the student wrote (cell contents, their column names)
    replaced, so no text of theirs is echoed back in a result."""
    return re.sub(r"'([^']*)'", lambda m: m.group(0) if _KNOWN_NAMES.match(m.group(1)) else "'…'", message)


@dataclass
class Context:
    spec: object
    lab: LabReference
    expected: Expected
    evidence: Evidence
    notebook: Path | None = None       # the staged submission, to name the cell a failure comes from
    status: dict = field(default_factory=dict)
    tmp: Path | None = None
    limits: list = field(default_factory=list)   # the GraderLimits met: the grading is not the notebook's to bear
    outcomes: dict = field(default_factory=dict)  # check name → None (passed) or its message (verdict fills it)

    def __post_init__(self):
        self.kind = KINDS[self.spec.kind]
        self.probe_functions = {"hook": f"{self.kind.model.__name__}.forward", "snapshot": "snapshot",
                                "train": "train_and_capture", "export": "export_mantis", "separation": "separation_ratio"}
        self.harvest = self.evidence.json("harvest") or {}
        self.reading = self._diagnose_reading()
        try:
            self.cells = nbformat.read(str(self.notebook), as_version=4).cells if self.notebook else []
        except Exception:
            self.cells = []

    # -- what the run says about a name or a probe ---------------------------------------------
    def cell_note(self, name: str) -> str:
        """' (its cell raised NameError)' for the cell that defines name, when that cell failed."""
        pattern = re.compile(rf"^\s*(def|class)\s+{re.escape(name)}\b|^\s*{re.escape(name)}\s*=", re.M)
        for index, cell in enumerate(self.cells):
            if cell.cell_type == "code" and pattern.search(cell.source):
                state = self.status.get("cells", {}).get(str(index), {})
                timeout = {"cpu": "used more than its CPU time (an endless loop?)",
                           "idle": "sat idle past its time limit (waiting on nothing?)"}.get(
                    state.get("limit"), "ran past the run's time limit")
                what = {"error": f"raised {state.get('error', 'an exception')}", "timeout": timeout,
                        "kernel died": "crashed the Python kernel"}.get(state.get("status"))
                if index in self.status.get("skipped", []) and not what:
                    what = "was left out after it hung or crashed the kernel"
                if state.get("status") is None and self.status:
                    what = "never ran (the time limit was reached)"
                return f" (its cell {what})" if what else ""
        return ""

    def probe(self, name: str, what: str) -> dict:
        """The report of probe `name`, once the driver's record says it ran to its end; otherwise a Fail that
        says how it ended, in the notebook's words (or a GraderLimit when that was not the notebook's doing)."""
        state = self.status.get("probes", {}).get(name) or {}
        how = state.get("state") if isinstance(state, dict) else None
        report = self.evidence.json(name) if how == "ran" else None
        if report is None:
            limit = self.status.get("probe_timeout") or self.spec.probe_timeout
            if how == "timeout":
                raise Fail(f"{what} did not finish within {limit:g} s on the autograder's small inputs (an endless loop?)")
            if how == "crashed" and state.get("signal") is None:
                raise Fail(f"{what} ended the autograder's process it was called in (it stopped its parent process)")
            if how == "crashed":
                raise Fail(f"{what} crashed the Python process (signal {state.get('signal')})")
            if how == "exited":
                raise Fail(f"{what} ended the Python process (os._exit, or a crash) before returning")
            if how == "killed":
                raise GraderLimit(what, "the process that ran it was killed from outside the notebook")
            if how in ("lost", "ran"):
                raise GraderLimit(what, "the process that ran it stopped answering the grader")
            if how == "not run" and state.get("ended_by") in self.probe_functions:
                raise Fail(f"{what} could not be checked: {self.probe_functions[state['ended_by']]}, called before it, "
                           "ended the autograder's process the checks run in")
            if how == "not run" and "was not running" in str(state.get("why")):
                raise Fail(f"{what} could not be checked: the notebook's kernel had died when its time ran out")
            if how == "not run":
                raise GraderLimit(what, state.get("why") or "the probes did not start")
            raise Fail(f"{what} could not be checked: the grading stopped before this check (the time limit, or the "
                       "notebook ended the grading process)")
        if "missing" in report:
            missing = str(report["missing"])
            if missing in self.harvest.get("defined", []):
                raise GraderLimit(what, f"the notebook's run defined {missing}, but the grader could not reach it")
            thing = "class" if missing[:1].isupper() else "function"
            raise Fail(f"the notebook's run left no {thing} {missing} defined{self.cell_note(missing)}")
        if "load_error" in report:
            raise Fail(f"{self.kind.model.__name__} does not take the given layers' weights: keep its layers as given")
        if "error" in report:
            raise Fail(f"{what} raised {report['error']}")
        if "returned" in report:
            raise Fail(f"{what} returned {report['returned']}" + (": finish it and return the result"
                                                                 if report["returned"] in ("None", "...") else ""))
        return report

    def array(self, name: str, items: int, what: str) -> np.ndarray:
        array = self.evidence.array(name, items)
        if array is None:
            raise Fail(f"{what} returned nothing usable as an array of numbers")
        return array

    def _diagnose_reading(self) -> str:
        """The reading the student's hook takes (from the q1 probe), so q2 judges their snapshots by it."""
        for reading in (self.kind.reads, *[r for r in READINGS if r != self.kind.reads]):
            got = [self.evidence.array(f"hook_emb{k}", 64 * self.spec.dim) for k in range(len(HOOK_BATCHES))]
            if all(g is not None and close(g, e[reading], 1e-4) for g, e in zip(got, self.expected.hook)):
                return reading
        return self.kind.reads

    def csv_table(self, name: str, rows: int, what: str):
        """A Mantis CSV of the report: the one the notebook's run left ("notebook.csv") or the one export_mantis
        wrote for its probe ("export.csv")."""
        limit = rows * (self.spec.epochs + 1) * self.spec.dim * 48 + rows * 4096 + (1 << 20)
        try:
            data = self.evidence.file(name, limit)
        except Unusable as e:
            raise Fail(f"{what} cannot be read: {e}") from None
        if data is None:
            raise Fail(f"no {what}" + (f" beside the notebook after the run: write it with "
                                        f"export_mantis(CSV_NAME, …){self.cell_note('export_mantis')}"
                                        if name == NOTEBOOK_CSV else ""))
        path = self.tmp / name
        path.write_bytes(data)
        try:
            return read_mantis_csv(path, epochs=self.spec.epochs + 1, dim=self.spec.dim, n_rows=rows)
        except MantisFormatError as e:
            raise Fail(student_safe(str(e))) from None
        finally:
            path.unlink()


# --- q1: the hook --------------------------------------------------------------------------------
def _hook_passes(ctx):
    report = ctx.probe("hook", f"{ctx.kind.model.__name__}.forward")
    passes = report.get("passes", [])
    if len(passes) != len(HOOK_BATCHES):
        raise Fail("the hook could not be checked (the probe did not finish)")
    return report, passes


def _hook_is_real(ctx, passes):
    """What forward reports about itself (shapes, detached, capture off) counts only when the values it
    stored are the hooked layer's, read on one side of its ReLU or the other: facts about a hook that
    computes nothing are no hook."""
    got = [ctx.evidence.array(f"hook_emb{k}", b["size"] * ctx.spec.dim * 4) for k, b in enumerate(HOOK_BATCHES)]
    if not all(g is not None and any(close(g, e[r], 1e-4) for r in READINGS) for g, e in zip(got, ctx.expected.hook)):
        raise Fail("self.embeddings does not hold the hooked layer's output")


def hook_stores_embeddings(ctx):
    _, passes = _hook_passes(ctx)
    for k, (batch, row) in enumerate(zip(HOOK_BATCHES, passes)):
        size, when = batch["size"], ("in a training step (train mode, autograd on)" if batch["grad"]
                                     else "in eval mode under torch.no_grad()")
        if "error" in row:
            raise Fail(f"with capture on, forward raised {row['error']} {when}"
                       + (": store h.detach() so a tensor that requires grad can become a NumPy array"
                          if batch["grad"] and row["error"] == "RuntimeError" else ""))
        if row.get("problem") == "not stored":
            raise Fail(f"with capture on, forward stored nothing in self.embeddings ({when})")
        if "problem" in row:
            raise Fail("self.embeddings holds something that is not an array of numbers")
        emb = ctx.evidence.array(f"hook_emb{k}", size * ctx.spec.dim * 4)
        want = (size, ctx.spec.dim)
        if emb is None or emb.shape != want:
            raise Fail(f"for a batch of {size}, self.embeddings has shape "
                       f"{'unknown' if emb is None else tuple(emb.shape)}, expected {want}")
    _hook_is_real(ctx, passes)


def hook_reads_the_layer(ctx):
    _, passes = _hook_passes(ctx)
    if not any("error" not in row and "problem" not in row for row in passes):
        raise Fail("with capture on, forward stores nothing to compare with the hooked layer")
    got = [ctx.evidence.array(f"hook_emb{k}", b["size"] * ctx.spec.dim * 4) for k, b in enumerate(HOOK_BATCHES)]
    right = ctx.kind.reads
    if all(g is not None and close(g, e[right], 1e-4) for g, e in zip(got, ctx.expected.hook)):
        return
    want = ctx.kind.describe(right, ctx.spec.dim)
    if ctx.reading != right:
        raise Fail(f"self.embeddings holds {ctx.kind.describe(ctx.reading, ctx.spec.dim)}; the hook should store {want}")
    raise Fail(f"self.embeddings differs from {want}")


def hook_off_copies_nothing(ctx):
    """Judged from the array alone: the judge puts an array of its own in self.embeddings, the probe runs a
    training-style pass with capture off, and what self.embeddings holds afterwards comes back. That array
    untouched, or nothing (the notebook allows setting it to None), is right; the layer's output is not."""
    report, passes = _hook_passes(ctx)
    if not any("error" not in row and "problem" not in row for row in passes):
        raise Fail("with capture on, forward stores nothing, so there is no capture to switch off yet")
    _hook_is_real(ctx, passes)
    if "off_error" in report:
        raise Fail(f"with capture off, forward raised {report['off_error']}")
    after = ctx.evidence.array("hook_off", 64 * ctx.spec.dim * 4)
    if after is None:
        raise Fail("with capture off, self.embeddings could not be read back (it holds something that is not "
                   "an array of numbers)")
    if after.size and not (after.shape == ctx.expected.hook_sentinel.shape
                           and np.array_equal(after, ctx.expected.hook_sentinel)):
        raise Fail("with capture off, forward stored embeddings anyway: store them only when self.capture is on")


# --- q2: snapshots -------------------------------------------------------------------------------
def snapshot_rows_in_order(ctx):
    """Rows, order and eval mode, from the values: the judge's probe model's hooked layer gives other values
    in train mode than in eval mode. (Autograd on or off gives the same values, so the notebook
    states that requirement and its public test checks it, but no score depends on it.)"""
    ctx.probe("snapshot", "snapshot(model, x)")
    want = ctx.expected.snapshot
    got = ctx.array("snapshot", want.size * 2, "snapshot(model, x)")
    if got.shape != want.shape:
        raise Fail(f"snapshot of {len(want)} rows returned shape {tuple(got.shape)}, expected {want.shape}: "
                   "every row, in order, one row of embeddings each")
    if not close(got, want, 1e-4):
        if close(np.sort(got, axis=0), np.sort(want, axis=0), 1e-4):
            raise Fail("snapshot returns the rows in another order: keep the order of x")
        raise Fail("snapshot's rows differ from the hooked layer's output for x (every row, model in eval mode)")


def train_and_capture_epochs(ctx):
    ctx.probe("train", "train_and_capture")
    right = ctx.expected.train["right"]
    got = ctx.array("train", right.size * 2, "train_and_capture")
    e = TRAIN_EPOCHS
    if got.shape[:1] == (e,) and got.shape[1:] == right.shape[1:]:
        raise Fail(f"for {e} epochs train_and_capture returned {e} snapshots, expected {e + 1}: "
                   "epoch 0 (before any training step) and one after each epoch")
    if got.shape != right.shape:
        raise Fail(f"for {e} epochs train_and_capture returned shape {tuple(got.shape)}, expected {right.shape} "
                   "(epochs + 1, rows, dim)")
    if not close(got[0], right[0]):
        raise Fail("the first snapshot is not the untrained model read in eval mode: take epoch 0 before any "
                   "training step, with the model in eval mode")
    trajectories, envelope = ctx.expected.train, ctx.expected.train_envelope
    if accepted_trajectory(got, trajectories, envelope):
        return
    for slip, trajectory in trajectories.items():   # a slip the judge replayed, up to honest rounding: named
        others = {("the right one" if k == "right" else k): v for k, v in trajectories.items() if k != slip}
        if slip != "right" and accepted_trajectory(got, {**others, "right": trajectory}, envelope):
            raise Fail(SLIPS[slip])
    k = next((k for k in range(1, e + 1) if not close(got[k], right[k], TRAJECTORY_FLOOR)), e)
    raise Fail(f"snapshot {k} is not the model after {k} epoch{'s' if k > 1 else ''} of train_one_epoch on "
               "train_rows (with the optimizer, lr, batch_size and generator given), read in eval mode")


# What each wrong trajectory the judge replays (probes._trajectories) means, in the notebook's words.
SLIPS = {"all rows": "it trains on every row: train on the rows in train_rows only (the held-out rows must stay unseen)",
         "held-out rows": "it trains on the held-out rows: train on the rows in train_rows",
         "two epochs per snapshot": "two epochs of training between snapshots: one epoch, then a snapshot",
         "AdamW": "the training is not the given optimizer's: keep `optimizer = torch.optim.Adam(model.parameters(), "
                  "lr=lr)` as given (AdamW's weight decay gives other weights)",
         "SGD": "the training is not the given optimizer's: keep `optimizer = torch.optim.Adam(model.parameters(), "
                "lr=lr)` as given (not SGD)",
         "LR": "it trains with the notebook's LR, not the lr it is given: use the function's lr argument",
         "BATCH_SIZE": "it trains with the notebook's BATCH_SIZE, not the batch_size it is given: pass the "
                       "function's batch_size to train_one_epoch"}
# The honest envelope (how far the right training moves when only the batch split of the snapshot pass changes,
# replayed by the judge for each grading: 2e-7 to 6e-7 here) is far below this floor; the slips above are 0.7 %
# (AdamW's weight decay, at the least) to several hundred percent away.
TRAJECTORY_FLOOR = 1e-5
ENVELOPE_TIMES = 10
FLOAT16_STEP = 2.0 ** -10   # a float16's rounding step, relative to its value (snapshots may be kept as float16)


def accepted_trajectory(got, trajectories, envelope) -> bool:
    """The right trajectory up to honest rounding: within ENVELOPE_TIMES the honest envelope the judge measured
    (never less than TRAJECTORY_FLOOR; two float16 steps where the snapshots are kept as float16, compared with
    the right ones kept so), and three times nearer the right trajectory than every wrong one."""
    got = np.asarray(got, np.float64)
    tolerance = max(ENVELOPE_TIMES * envelope, TRAJECTORY_FLOOR)
    if np.array_equal(got.astype(np.float16).astype(np.float64), got):
        trajectories = {k: np.asarray(v).astype(np.float16).astype(np.float64) for k, v in trajectories.items()}
        tolerance = max(tolerance, 2 * FLOAT16_STEP)
    right = distance(got, trajectories["right"])
    # a slip whose training this grading cannot tell from the right one (probes.SLIP_MARGIN makes that rare)
    # is no reason to refuse the right one
    wrong = [distance(got, t) for slip, t in trajectories.items()
             if slip != "right" and distance(t, trajectories["right"]) > tolerance]
    return right <= tolerance and all(3 * right < w for w in wrong)


def snapshots_are_the_training(ctx):
    shape = (ctx.spec.epochs + 1, len(ctx.lab.corpus), ctx.spec.dim)
    problem = ctx.harvest.get("snapshots_problem")
    if problem == "missing" or (not ctx.harvest and problem is None):
        raise Fail(f"no `snapshots` after the notebook ran{ctx.cell_note('snapshots')}")
    if problem == "None":
        raise Fail(f"`snapshots` is None after the notebook ran: finish train_and_capture (q2){ctx.cell_note('snapshots')}")
    snaps = ctx.evidence.array("snapshots", int(np.prod(shape)) * 2)
    if snaps is None:
        raise Fail("`snapshots` is not an array (or list of arrays) of numbers")
    if snaps.shape != shape:
        raise Fail(f"`snapshots` has shape {tuple(snaps.shape)}, expected {shape} (epoch 0 and every epoch, all items)")
    if not np.isfinite(snaps).all():
        raise Fail("`snapshots` holds NaN or infinite values")
    ref = ctx.lab.snapshots[ctx.reading]
    if not close(snaps[0], ref[0]):
        raise Fail(f"snapshots[0] is not the untrained model of the notebook's run (SEED = {ctx.spec.seed}, the "
                   "model built right after seed_everything(SEED), epoch 0 before any training step)")
    for k in range(1, len(ref)):
        if not close(snaps[k], ref[k]):
            raise Fail(f"snapshots[{k}] is not the model after {k} epoch{'s' if k > 1 else ''} of the notebook's "
                       "training (one epoch of train_one_epoch on the training rows before each snapshot)")


# --- q3: the CSV ---------------------------------------------------------------------------------
def export_writes_what_it_is_given(ctx):
    ctx.probe("export", "export_mantis")   # missing, raised or returned oddly: said here
    e = ctx.expected.export
    table = ctx.csv_table("export.csv", len(e["titles"]), "file export_mantis(path, …) was to write")
    if table.titles != e["titles"]:
        raise Fail("export_mantis: the title column does not hold corpus.titles in order (quoted where needed)")
    if table.categories != e["labels"]:
        raise Fail("export_mantis: the categoric column does not hold corpus.labels")
    if table.splits != e["splits"]:
        raise Fail("export_mantis: the split column should say 'test' where is_test is True and 'train' elsewhere")
    if table.snippets != e["snippets"]:
        raise Fail("export_mantis: the snippet column should hold corpus.snippet(i) for each row i")
    if not close(table.embeddings, e["snapshots"], 1e-5):
        raise Fail("export_mantis: embedding_epoch_k should hold snapshots[k], row by row, as given")


def _export_works(ctx):
    """The file checks credit the notebook's own export: a CSV written some other way (say, from
    made-up snapshots with the given writer) earns nothing while export_mantis writes no Mantis CSV.
    (A slip in one of its columns is export_writes_what_it_is_given's to charge, not these.)"""
    try:
        ctx.probe("export", "export_mantis")
        ctx.csv_table("export.csv", len(ctx.expected.export["titles"]), "probe CSV")
    except GraderLimit:
        raise
    except Fail:
        raise Fail(f"{ctx.spec.csv_name} is only checked once export_mantis(path, …) writes a Mantis CSV "
                   "to path") from None


def csv_file_is_complete(ctx):
    _export_works(ctx)
    corpus = ctx.lab.corpus
    table = ctx.csv_table(NOTEBOOK_CSV, len(corpus), ctx.spec.csv_name)
    if table.titles != list(corpus.titles):
        raise Fail(f"{ctx.spec.csv_name}: the title column does not list the items in the data's order")
    if table.categories != list(corpus.labels):
        raise Fail(f"{ctx.spec.csv_name}: the categoric column does not hold each item's class")
    if table.splits != np.where(ctx.lab.is_test, "test", "train").tolist():
        raise Fail(f"{ctx.spec.csv_name}: the split column does not match is_test")
    if table.snippets != [corpus.snippet(i) for i in range(len(corpus))]:
        raise Fail(f"{ctx.spec.csv_name}: the snippet column does not hold corpus.snippet(i) for each item")


def csv_holds_the_snapshots(ctx):
    _export_works(ctx)
    corpus = ctx.lab.corpus
    table = ctx.csv_table(NOTEBOOK_CSV, len(corpus), ctx.spec.csv_name)
    shape = (ctx.spec.epochs + 1, len(corpus), ctx.spec.dim)
    snaps = ctx.evidence.array("snapshots", int(np.prod(shape)) * 2)
    if snaps is None or snaps.shape != shape:
        raise Fail(f"{ctx.spec.csv_name}: there are no `snapshots` of shape {shape} in the notebook to compare it with")
    if not close(table.embeddings, snaps, 1e-5):
        raise Fail(f"{ctx.spec.csv_name}: embedding_epoch_k does not hold snapshots[k] (the file the notebook "
                   "leaves behind must be its last export of its own snapshots)")


# --- q4: separation ------------------------------------------------------------------------------
def _separation(ctx, cases):
    report = ctx.probe("separation", "separation_ratio")
    values = report.get("values")
    if not isinstance(values, list) or len(values) != len(SEPARATION_CASES):
        raise Fail("separation_ratio could not be checked")
    for k in cases:
        got, want = values[k], ctx.expected.separation[k]
        count, dim, classes, _ = SEPARATION_CASES[k]
        case = f"{count} points of {classes} classes in {dim}-d"
        if isinstance(got, str):
            raise Fail(f"separation_ratio raised {got} ({case})")
        if got is None:
            raise Fail(f"separation_ratio returned no finite number ({case})")
        if abs(got - want) > 1e-4 * max(1.0, abs(want)):
            if abs(got * want - 1) < 1e-3:
                raise Fail("separation_ratio is upside down: centroid gaps divided by the spread within classes")
            raise Fail(f"separation_ratio differs from the definition in q4 ({case})")


def separation_ratio_correct(ctx):
    _separation(ctx, (0, 1))


def separation_ratio_any_classes(ctx):
    _separation(ctx, (2, 3))


def separation_is_the_heldout_curve(ctx):
    """The notebook's final `separation`: separation_ratio of the held-out items at every epoch, recomputed
    here with the reference ratio from the notebook's own snapshots (or, where those are wrong, the replay's,
    so a slip in q2 is not charged again here)."""
    problem = ctx.harvest.get("separation_problem")
    if problem == "missing" or (not ctx.harvest and problem is None):
        raise Fail(f"no `separation` after the notebook ran{ctx.cell_note('separation')}")
    if problem == "None":
        raise Fail(f"`separation` is None after the notebook ran{ctx.cell_note('separation')}")
    epochs = ctx.spec.epochs + 1
    got = ctx.evidence.array("final_separation", epochs * 8 * 4)
    if got is None:
        raise Fail("`separation` is not an array (or list) of numbers")
    got = got.reshape(-1) if got.size == epochs else got
    if got.shape != (epochs,):
        raise Fail(f"`separation` has shape {tuple(got.shape)}, expected ({epochs},): one value per snapshot")
    labels = np.asarray(ctx.lab.corpus.labels)
    shape = (epochs, len(labels), ctx.spec.dim)
    own = ctx.evidence.array("snapshots", int(np.prod(shape)) * 2)
    runs = [s for s in (own, ctx.lab.snapshots[ctx.reading]) if s is not None and s.shape == shape]

    def curve(snaps, rows):
        return np.array([separation_ratio(epoch[rows], labels[rows]) for epoch in snaps])
    # REL_TOL: a ratio computed in float16 from float16 snapshots is off by ~4e-4; other rows by percents
    if any(close(got, curve(snaps, ctx.lab.is_test)) for snaps in runs):
        return
    if any(close(got, curve(snaps, ~ctx.lab.is_test)) or close(got, curve(snaps, slice(None))) for snaps in runs):
        raise Fail("`separation` is measured on other items than the held-out ones: "
                   "separation_by_epoch(snapshots, corpus.labels, is_test)")
    raise Fail("`separation` is not separation_ratio of the held-out items at every epoch")


CHECKS = {
    "q1_hook": [hook_stores_embeddings, hook_reads_the_layer, hook_off_copies_nothing],
    "q2_capture": [snapshot_rows_in_order, train_and_capture_epochs, snapshots_are_the_training],
    "q3_export": [export_writes_what_it_is_given, csv_file_is_complete, csv_holds_the_snapshots],
    "q4_separation": [separation_ratio_correct, separation_ratio_any_classes, separation_is_the_heldout_curve],
}


def verdict(ctx: Context, log=None) -> list[dict]:
    """Gradescope tests, one per question of the config, scored by its checks and clamped."""
    tests = []
    with tempfile.TemporaryDirectory(prefix="lab8-judge-") as tmp:
        ctx.tmp = Path(tmp)
        for question, points in ctx.spec.questions.items():
            checks = CHECKS.get(question, [])
            lines, passed = [], 0
            for check in checks:
                ctx.outcomes[check.__name__] = None
                try:
                    check(ctx)
                    passed += 1
                except Fail as e:
                    ctx.outcomes[check.__name__] = str(e)
                    line = f"{question}: {e}"
                    if line not in lines:
                        lines.append(line)
                    if isinstance(e, GraderLimit):
                        ctx.limits.append(line)
                except Exception:  # a bug of ours: logged for the TA, never a student's loss in silence
                    ctx.outcomes[check.__name__] = "grader error"
                    lines.append(f"{question}: {check.__name__} could not be checked (grader error; a TA will look)")
                    if log is not None:
                        log.write(traceback.format_exc())
            if not checks:
                lines.append(f"{question}: no checks are defined for this question (a course set-up problem)")
            score = min(max(points * passed / len(checks), 0.0), points) if checks else 0.0
            tests.append({"name": question, "score": round(score, 4), "max_score": points,
                          "status": "passed" if checks and passed == len(checks) else "failed",
                          "visibility": "visible", "output": "\n".join(lines) or "All checks passed."})
    return tests
