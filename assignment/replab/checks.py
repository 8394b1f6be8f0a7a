"""`grader.check("q1_hook")`: the lab's public checks, run in the notebook.

The checks are the files otter-grader writes beside the notebook (tests/q1_hook.py ...: OK-format test files,
each case a doctest). This small runner reads the same files and runs each case in the notebook's own
namespace, so a student needs nothing but the standard library for them: otter-grader stays what splits the
release's master notebook and writes these files, and its long list of dependencies (widget libraries among
them) never lands in a student's runtime. What a check prints says whether it passed and, when it did not,
the assertion's message — the one line the test was written to say.
"""
from __future__ import annotations

import doctest
import html
import inspect
import io
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class CaseResult:
    passed: bool
    message: str = ""     # the failing case's last line: the assertion's message, or what was expected


@dataclass
class CheckResult:
    """What `grader.check` returns; a notebook shows it as one line per failing case."""
    name: str
    cases: list = field(default_factory=list)
    problem: str = ""     # no such test file, or one that cannot be read

    @property
    def passed(self) -> bool:
        return not self.problem and bool(self.cases) and all(c.passed for c in self.cases)

    def lines(self) -> list[str]:
        if self.passed:
            return [f"{self.name} passed!"]
        if self.problem:
            return [f"{self.name} could not be checked: {self.problem}"]
        return [f"{self.name} results: {sum(not c.passed for c in self.cases)} of {len(self.cases)} test case(s) "
                "failed"] + [f"    {c.message}" for c in self.cases if not c.passed]

    def __repr__(self) -> str:
        return "\n".join(self.lines())

    def _repr_html_(self) -> str:
        colour = "#2e7d32" if self.passed else "#b71c1c"
        body = "<br>".join(html.escape(line) for line in self.lines())
        return f'<p style="color:{colour}; font-family: monospace">{body}</p>'


def _failure(report: str) -> str:
    """The line a student needs from doctest's report: the exception's last line, or the expected output."""
    lines = [line.strip() for line in report.splitlines() if line.strip()]
    for line in reversed(lines):
        if not line.startswith(("File ", "Traceback", "***", "Failed example", "Exception raised")):
            return line
    return "test case failed"


class Notebook:
    """The notebook's `grader`: `grader.check(name)` runs tests/<name>.py's cases in the notebook's namespace."""

    def __init__(self, tests_dir: str | Path = "tests"):
        self.tests_dir = Path(tests_dir)

    def check(self, name: str, global_env: dict | None = None) -> CheckResult:
        env = global_env if global_env is not None else inspect.currentframe().f_back.f_globals
        path = self.tests_dir / f"{name}.py"
        result = CheckResult(name)
        try:
            spec: dict = {}
            exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), spec)
            suites = spec["test"]["suites"]
        except (OSError, KeyError, TypeError, SyntaxError) as e:
            result.problem = f"{path} is missing or not a test file ({type(e).__name__})"
            return result
        parser = doctest.DocTestParser()
        for suite in suites:
            for k, case in enumerate(suite.get("cases", [])):
                test = parser.get_doctest(case["code"], env, f"{name}[{k}]", str(path), 0)
                out = io.StringIO()
                runner = doctest.DocTestRunner(verbose=False, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
                failed = runner.run(test, out=out.write, clear_globs=False).failed
                result.cases.append(CaseResult(failed == 0, _failure(out.getvalue()) if failed else ""))
        return result

    def check_all(self) -> list[CheckResult]:
        env = inspect.currentframe().f_back.f_globals
        return [self.check(p.stem, env) for p in sorted(self.tests_dir.glob("q*.py"))]
