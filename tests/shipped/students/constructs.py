"""Honest students who write ordinary Python the way people do (cell magics, names bound by assignment, `try`
imports, tuple assignments, helper modules written with %%writefile, redefinitions, star imports, hook
factories...): the two sets of constructs_a.py and constructs_b.py, written from the student notebook's words
alone (each module's docstring lists its constructs). Every notebook is correct, so any point it loses is the
grader's fault: test_students.py grades them in every path, for a text and the image variant."""
from __future__ import annotations

from tests.shipped.students import constructs_a, constructs_b


def construct_notebooks(student_nb, kind: str) -> dict:
    """{name: completed notebook} of both sets, for kind "text" or "image"."""
    a, b = constructs_a.construct_notebooks(student_nb, kind), constructs_b.construct_notebooks(student_nb, kind)
    assert not set(a) & set(b), f"a student's name in both sets: {sorted(set(a) & set(b))}"
    return {**a, **b}
