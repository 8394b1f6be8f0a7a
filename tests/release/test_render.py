"""Templates → master notebook: each preprocessing step alone, then the rendered masters."""
import nbformat
import pytest

from autograder.shipped.judge.checks import CHECKS
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


# The classes each variant's data has (what build.py passes to variant_context from the loaded corpus).
CLASS_NAMES = {"bbc": ["business", "entertainment", "politics", "sport", "tech"],
               "cifar10": ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]}


def written_context(variant):
    from worksheet.bank import variant_context
    classes = CLASS_NAMES.get(variant.name) or sorted(variant.source["topics"])
    return variant_context(variant.kind, variant.embedding_dim, classes, variant.title)


@pytest.fixture(scope="module")
def masters(cfg, tmp_path_factory):
    from autograder.release import assign
    from worksheet.bank import notebook_questions
    from templates.render import render_master
    out = {}
    for name, variant in cfg.variants.items():
        classes = CLASS_NAMES.get(variant.name) or sorted(variant.source["topics"])
        context = assign.master_context(cfg, variant, notebook_questions(written_context(variant)),
                                        {"offline": False, "classes": classes, "source": "test"}, ["replab"])
        out[name] = render_master(variant, context)
    return out


def test_every_variant_renders_one_shared_structure(masters, cfg):
    structures = {}
    for name, nb in masters.items():
        nbformat.validate(nb)
        raws = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "raw"]
        structures[name] = raws
        questions = [c.source.splitlines()[1] for c in nb.cells if c.source.startswith("# BEGIN QUESTION")]
        assert questions[:4] == [f"name: {q}" for q in CHECKS] == [f"name: {q}" for q in cfg.points]
        text = "\n".join(c.source for c in nb.cells)
        assert ("class TextMLP" in text) == (cfg.variant(name).kind == "text")
        assert "\nhidden: true\n" not in text  # hidden checks never run in the student's kernel
    assert len({tuple(s) for s in structures.values()}) == 1  # variants differ in content, not structure


@pytest.mark.parametrize("name", ["wikipedia", "bbc", "cifar10"])
def test_manual_questions_are_the_bank_worded_for_the_variant(masters, cfg, name):
    from worksheet.bank import notebook_questions
    bank = notebook_questions(written_context(cfg.variant(name)))
    nb = masters[name]
    manual = [c for c in nb.cells if c.source.startswith("# BEGIN QUESTION") and "manual: true" in c.source]
    assert [c.source.splitlines()[1] for c in manual] == [f"name: {q.id}" for q in bank]
    prompts = [c.source for c in nb.cells if c.cell_type == "markdown"]
    for q in bank:
        assert any(q.prompt in p and f"({q.points:g} pt" in p for p in prompts), q.id
        assert any(f"points: {q.points:g}" in c.source or f"points: {q.points}" in c.source for c in manual)
    written = "\n".join(p for p in prompts if any(f"**{q.id}**" in p for q in bank))
    assert ("TF-IDF" in written) == (name != "cifar10") and ("128-dimensional" in written) == (name == "cifar10")


def test_the_notebook_states_the_grading_limits_it_is_held_to(masters, cfg):
    """The limits grade.py applies (GradingSpec.limits) are the ones the notebook states, by the tasks."""
    from autograder.contract import GradingSpec
    for name, nb in masters.items():
        limits = GradingSpec.from_config(cfg, cfg.variant(name)).limits()
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
        assert f"**{int(limits['cell_cpu'])} seconds of CPU time**" in text, name
        assert f"gets {int(limits['probe'])} seconds" in text and "costs only the questions it answers" in text
