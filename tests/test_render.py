"""Templates → master notebook: each preprocessing step alone, then the rendered masters."""
import nbformat
import pytest

from autograder.checks import HIDDEN
from templates.render import TemplateError, check_solution_cells, solution, split_cells


def test_split_cells_by_marker_lines():
    cells = split_cells("%%% markdown\n# Title\n%%% code\nx = 1\n\n%%% raw\n# BEGIN SOLUTION\n%%% code\n\n")
    assert [c.cell_type for c in cells] == ["markdown", "code", "raw"]
    assert cells[1].source == "x = 1"
    with pytest.raises(TemplateError, match="before the first cell marker"):
        split_cells("stray\n%%% code\nx = 1")


def test_unmarked_code_cell_inside_a_solution_block_is_refused():
    cells = split_cells("%%% raw\n# BEGIN SOLUTION\n%%% code\nanswer = 42\n%%% raw\n# END SOLUTION")
    with pytest.raises(TemplateError, match="no in-cell solution markers"):
        check_solution_cells(cells)
    ok = split_cells("%%% raw\n# BEGIN SOLUTION\n%%% code\nanswer = 42  # SOLUTION\n%%% raw\n# END SOLUTION")
    assert check_solution_cells(ok) == ok


def test_solution_source_keeps_its_closing_marker():
    src = solution("capture.snapshot")
    assert src.startswith("def snapshot(") and src.rstrip().endswith("# END SOLUTION")
    assert src.count("# BEGIN SOLUTION") == 1
    with pytest.raises(TemplateError, match="no top-level function or class named 'nope'"):
        solution("capture.nope")


@pytest.fixture(scope="module")
def masters(cfg, tmp_path_factory):
    from autograder import assign
    from worksheet.bank import notebook_questions
    from templates.render import render_master, otter_config
    from autograder.tests import hidden_tests, public_test
    out = {}
    for name, variant in cfg.variants.items():
        context = {"cfg": cfg, "points": cfg.points, "snapshot_path": assign.snapshot_name(variant),
                   "written_questions": notebook_questions(),
                   "otter_config": otter_config(cfg, variant, ["replab"], ["lab8_checks.py"]),
                   "public_test": public_test,
                   "hidden_test": lambda q: "\n%%% code\n".join(hidden_tests(q, cfg.points[q]))}
        out[name] = render_master(variant, context)
    return out


def test_every_variant_renders_one_shared_structure(masters, cfg):
    structures = {}
    for name, nb in masters.items():
        nbformat.validate(nb)
        raws = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "raw"]
        structures[name] = raws
        questions = [c.source.splitlines()[1] for c in nb.cells if c.source.startswith("# BEGIN QUESTION")]
        assert questions[:4] == [f"name: {q}" for q in HIDDEN]
        text = "\n".join(c.source for c in nb.cells)
        assert ("class TextMLP" in text) == (cfg.variant(name).kind == "text")
        assert text.count("_c.run(") == sum(len(v) for v in HIDDEN.values())
    assert len({tuple(s) for s in structures.values()}) == 1  # variants differ in content, not structure


def test_manual_questions_are_the_bank(masters):
    from worksheet.bank import notebook_questions
    bank = notebook_questions()
    nb = masters["wikipedia"]
    manual = [c for c in nb.cells if c.source.startswith("# BEGIN QUESTION") and "manual: true" in c.source]
    assert [c.source.splitlines()[1] for c in manual] == [f"name: {q.id}" for q in bank]
    prompts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    for q in bank:
        assert any(q.prompt in p and f"({q.points:g} pt" in p for p in prompts), q.id
        assert any(f"points: {q.points:g}" in c.source or f"points: {q.points}" in c.source for c in manual)
