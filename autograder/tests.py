"""Test cells of the master notebook: light public tests and the hidden tests (one cell per check in
autograder/checks.py, so partial credit follows the checks). Written assert-style: otter's default
doctest format would compare against the master's saved outputs, which an unexecuted master lacks."""
from __future__ import annotations

from autograder.checks import HIDDEN

CHECKS_FILE = "lab8_checks.py"

# Public tests give no answer away: they only confirm that the pieces exist and have the right size.
PUBLIC = {
    "q1_hook": "_m = (TextMLP(x.shape[1], len(corpus.class_names)) if 'TextMLP' in globals() else ImageCNN())\n"
               "_m.capture = True\n"
               "_ = _m(x[:4])\n"
               "assert getattr(_m.embeddings, 'shape', None) is not None and _m.embeddings.shape[0] == 4, "
               "'with capture on, forward should store one embedding per input row'",
    "q2_capture": "assert getattr(snapshots, 'shape', (None,))[0] == EPOCHS + 1, "
                  "'snapshots should hold epoch 0 plus one snapshot per epoch'",
    "q3_export": "import os\n"
                 "assert os.path.isfile(CSV_NAME), 'export the CSV first'",
    "q4_separation": "assert len(separation) == EPOCHS + 1, 'one separation value per snapshot'",
}


def _config_header(points: float, hidden: bool) -> str:
    return (f'""" # BEGIN TEST CONFIG\npoints: {points:g}\nhidden: {str(hidden).lower()}\n""" # END TEST CONFIG\n')


def public_test(question: str) -> str:
    return _config_header(0, hidden=False) + PUBLIC[question]


def hidden_tests(question: str, points: float) -> list[str]:
    """One cell per check; the checks module is loaded fresh from its file, not from sys.modules,
    so a notebook that planted its own module of that name is not believed."""
    checks = HIDDEN[question]
    shares = [round(points / len(checks), 4)] * (len(checks) - 1)
    shares.append(round(points - sum(shares), 4))  # the last check takes the rounding remainder
    loader = ("import importlib.util as _u\n"
              f"_s = _u.spec_from_file_location('_lab8_checks', {CHECKS_FILE!r})\n"
              "_c = _u.module_from_spec(_s)\n"
              "_s.loader.exec_module(_c)\n")
    return [_config_header(share, hidden=True) + loader + f"_c.run({check.__name__!r}, globals())"
            for share, check in zip(shares, checks)]
