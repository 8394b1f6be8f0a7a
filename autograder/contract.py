"""What the build writes for grading and the grader reads back: one typed record, one file.

The record travels inside the Gradescope zip as `grading.json` (staff-only: the zip's source folder
is closed to student code) and is made from the config at grading time for local runs, so both grading
paths read the same names and numbers.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from replab.errors import LabError

GRADING_FILE = "grading.json"
STUDENT_FILES = "student_files"   # in the zip: what goes beside the notebook (replab/, data/, tests/)
# The Gradescope autograder settings the README asks for and the trial gives (build.py grade --gradescope): CPUs,
# memory. Gradescope's own defaults are half a CPU and 768 MB, too little memory for PyTorch.
GRADESCOPE_CPUS = 0.5
GRADESCOPE_MEMORY_GB = 3
PROBE_COUNT = 6   # the probes run after a notebook (autograder/shipped/sandbox/kernel_probes.PROBES)


class ContractError(LabError, ValueError):
    """A grading.json that cannot be used; the message names the file."""


def notebook_name(variant_name: str) -> str:
    return f"lab8_{variant_name}.ipynb"


def zip_name(variant_name: str) -> str:
    """The autograder zip's name in a release: dist/<variant>/autograder/<this>."""
    return f"lab8_{variant_name}_autograder.zip"


def snapshot_name(variant_name: str) -> str:
    return f"data/{variant_name}.npz"


@dataclass(frozen=True)
class GradingSpec:
    variant: str
    kind: str                      # "text" or "image"
    notebook: str                  # the name the submission is graded under
    data: str                      # the frozen data, relative to the student files
    csv_name: str
    seed: int
    epochs: int
    test_fraction: float
    max_features: int
    hidden: tuple[int, ...]
    lr: float
    batch_size: int
    questions: dict[str, float]    # the autograded questions and their points, in order
    timeout: int = 480             # seconds for the whole student side of one submission (Gradescope: 10 min in all)
    cell_timeout: int = 240        # seconds one notebook cell may run before it is interrupted
    probe_timeout: int = 20        # seconds one probe of a student function may run (honest ones take about one)
    written: dict[str, float] = field(default_factory=dict)  # manual questions (not autograded)

    @property
    def dim(self) -> int:
        return self.hidden[-1]

    def limits(self, timeout: float | None = None) -> dict:
        """What one grading allows, in the notebook's words' units, out of the whole student side's `timeout`:
        the notebook's cells together ("run", wall seconds), one cell ("cell_cpu": CPU seconds, and as long
        idle), one probe of a function ("probe", wall seconds) and all the probes ("probes": each probe's time
        and the start of the probe process), which come after the cells and which no cell can spend.
        grade.py applies these; the notebook states them."""
        timeout = timeout or self.timeout
        probe = min(self.probe_timeout, max(5.0, timeout / 24))
        probes = PROBE_COUNT * probe + 10
        return {"run": timeout - probes, "cell_cpu": min(self.cell_timeout, timeout / 3), "probe": probe,
                "probes": probes}

    @property
    def possible(self) -> float:
        return float(sum(self.questions.values()))

    @classmethod
    def from_config(cls, cfg, variant, **overrides) -> "GradingSpec":
        return cls(variant=variant.name, kind=variant.kind, notebook=notebook_name(variant.name),
                   data=snapshot_name(variant.name), csv_name=cfg.csv_name, seed=cfg.seed, epochs=cfg.epochs,
                   test_fraction=cfg.test_fraction, max_features=variant.max_features, hidden=tuple(variant.hidden),
                   lr=variant.lr, batch_size=variant.batch_size, questions=dict(cfg.points), **overrides)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def write(self, path: Path) -> Path:
        Path(path).write_text(self.to_json(), encoding="utf-8")
        return Path(path)

    @classmethod
    def read(cls, path: Path) -> "GradingSpec":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            data["hidden"] = tuple(data["hidden"])
            return cls(**data)
        except FileNotFoundError:
            raise ContractError(f"{path}: not found") from None
        except (ValueError, TypeError, KeyError) as e:
            raise ContractError(f"{path}: not a usable grading record ({e})") from None
