"""calibrate judges the data, not only the thresholds; a corpus too small is one line, never a library's
traceback; a refused release's next command repeats the instructor's options.

Each variant here is a small textdir written in tmp_path and added to a copy of the shipped config, as an
instructor would (tests/release/test_new_variant.py); calibrating one takes seconds.
"""
import json
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from assignment.config import CONFIG_PATH, load_config
from tests.release.test_new_variant import FILLER, VOCABULARY, write_textdir

ROOT = Path(__file__).resolve().parents[2]
BLOCK = """
  {name}:
    kind: text
    title: {name}
    source: {{type: textdir, path: {path}}}
    hidden: [64, 16]
    max_features: 300
    lr: 0.01
    batch_size: 0
"""


def config_with(tmp_path, **paths) -> Path:
    """The shipped config with one textdir variant per keyword (name=folder) appended under `variants:`."""
    blocks = "".join(BLOCK.format(name=name, path=path) for name, path in paths.items())
    path = tmp_path / "config.yaml"
    path.write_text(CONFIG_PATH.read_text(encoding="utf-8").rstrip("\n") + "\n" + blocks, encoding="utf-8")
    return path


def write_random(root: Path, classes=3, per_class=24, seed=11) -> Path:
    """Texts drawn from one vocabulary (every class's words mixed), each given a class at random: there is
    nothing to separate."""
    rng = np.random.default_rng(seed)
    words = " ".join(VOCABULARY.values()).split()
    for i in range(classes * per_class):
        folder = root / f"class_{i % classes}"
        folder.mkdir(parents=True, exist_ok=True)
        body = [rng.choice(words) if rng.random() < 0.35 else rng.choice(FILLER) for _ in range(60)]
        (folder / f"text {i:03d}.txt").write_text(" ".join(body), encoding="utf-8")
    return root


def build(*args, timeout=300):
    return subprocess.run([sys.executable, "build.py", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def noise(tmp_path_factory):
    """A variant of random classes calibrated twice: plainly (refused), then with --force.
    (config, its bytes before, the refused run, the forced run)."""
    tmp = tmp_path_factory.mktemp("noise")
    config = config_with(tmp, noise=write_random(tmp / "noise"))
    before = config.read_bytes()
    refused = build("calibrate", "--variant", "noise", "--config", str(config), "--offline")
    after_refusal = config.read_bytes()
    forced = build("calibrate", "--variant", "noise", "--config", str(config), "--offline", "--force")
    return config, before, after_refusal, refused, forced


def test_classes_that_do_not_separate_are_refused_with_the_numbers(noise):
    config, before, after_refusal, proc, _ = noise
    assert proc.returncode == 2 and proc.stdout.count("seed 5/5") == 1, proc.stdout + proc.stderr
    (line,) = proc.stderr.splitlines()
    assert line.startswith(f"error: {config}: variants.noise: the reference solution does not separate this data's "
                           f"classes over 5 seeds [path {config.parent / 'noise'}]: held-out silhouette at the last "
                           "epoch mean ")
    for said in ("(needs ≥ 0.05 on every seed); its gain over epoch 0 mean ", "held-out 5-NN accuracy at the last epoch mean",
                 "(needs a mean ≥ 0.500: 1.5 × chance 0.333)", "What usually helps: more items per class (now 24–24), "
                 "fewer or more distinct classes (now 3), a different lr or max_features", "Nothing was written; --force"):
        assert said in line, said
    assert after_refusal == before and "Traceback" not in proc.stderr


def test_force_records_the_override_and_the_measurements(noise):
    config, _, _, _, proc = noise
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[noise] forced: the reference run does not separate this data (held-out silhouette" in proc.stdout
    (entry,) = load_config(config).variant("noise").calibration.values()
    assert entry.forced and entry.seeds == 5
    m = entry.measured
    assert set(m) == {"silhouette_epoch0", "silhouette_last", "knn_accuracy_epoch0", "knn_accuracy_last", "knn_k", "knn_chance"}
    assert m["knn_k"] == 5 and m["knn_chance"] == 0.333
    assert m["silhouette_last"]["min"] < 0.05 and m["silhouette_last"]["min"] == entry.silhouette_last[2]
    assert m["knn_accuracy_last"]["min"] <= m["knn_accuracy_last"]["mean"] <= m["knn_accuracy_last"]["max"]
    # thresholds stay below every run, even where the weakest run is negative
    assert entry.silhouette_min <= entry.silhouette_last[2] and entry.silhouette_gain_min <= entry.gain[2]
    assert "# The assignment as the course runs it." in config.read_text()   # comments kept


def test_classes_that_separate_are_accepted_and_measured(tmp_path):
    config = config_with(tmp_path, notes=write_textdir(tmp_path / "notes", per_class=16))
    proc = build("calibrate", "--variant", "notes", "--config", str(config), "--offline")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "forced" not in proc.stdout and "[notes] data: held-out silhouette " in proc.stdout
    (entry,) = load_config(config).variant("notes").calibration.values()
    assert not entry.forced and "forced" not in config.read_text()
    m = entry.measured
    assert m["silhouette_last"]["min"] >= 0.05 and m["knn_accuracy_last"]["mean"] >= 1.5 * m["knn_chance"] == 0.375
    assert abs(entry.silhouette_min - 0.5 * entry.silhouette_last[2]) <= 0.001   # half the weakest run, as before


def test_the_shipped_entries_without_measurements_still_load(cfg):
    for variant in cfg.variants.values():
        for entry in variant.calibration.values():
            assert entry.measured == {} and entry.forced is False


@pytest.mark.slow   # tens of seconds (a release or a kernel run to its limits): the full tier
def test_a_class_too_small_is_one_line_in_calibrate_and_in_the_release(tmp_path):
    root = write_textdir(tmp_path / "tiny", per_class=10)
    for extra in list((root / "chess").iterdir())[1:]:   # chess keeps 1 file: once a scikit-learn traceback
        extra.unlink()
    config = config_with(tmp_path, tiny=root)
    message = ("variant tiny: class 'chess' has 1 item; at least 8 are needed per class (the held-out quarter needs 2) "
               f"[path {root}]")
    proc = build("calibrate", "--variant", "tiny", "--config", str(config), "--offline")
    assert proc.returncode == 2 and proc.stderr == f"error: {message}\n"
    proc = build("--variant", "tiny", "--config", str(config), "--offline", "--out", str(tmp_path / "dist"))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert f"FAILED tiny: data: {message}" in proc.stderr.splitlines()


@pytest.mark.slow   # tens of seconds (a release or a kernel run to its limits): the full tier
def test_a_refused_release_prints_the_calibrate_command_with_the_same_options(tmp_path):
    write_textdir(tmp_path / "data" / "notes", per_class=12)
    config = config_with(tmp_path, notes="/nowhere/notes")   # only the data dir has it
    data_dir = tmp_path / "data"
    proc = build("--variant", "notes", "--config", str(config), "--data-dir", str(data_dir), "--offline",
                 "--out", str(tmp_path / "dist"))
    assert proc.returncode == 1
    command = f"python build.py calibrate --variant notes --config {config} --data-dir {data_dir} --offline"
    assert f"run `{command}` first" in proc.stderr
    # the printed command is the one that calibrates exactly the data the release refused
    proc = build(*shlex.split(command)[2:])
    assert proc.returncode == 0 and "data-dir" in load_config(config).variant("notes").calibration.popitem()[1].source


def test_a_forced_calibration_reaches_the_release_record_and_the_notebook(noise, tmp_path):
    """step_data and step_render in-process (no notebook is executed): what release.json and the notebook get."""
    from autograder.release import Build, step_data, step_render
    cfg = load_config(noise[0])
    b = Build(cfg, cfg.variant("noise"), tmp_path / "dist", None, False, 60)
    b.work = tmp_path / "dist" / ".work" / "noise"
    b.work.mkdir(parents=True)
    step_data(b)
    assert b.record["calibration"]["forced"] is True
    assert b.record["calibration"]["measured"]["knn_chance"] == 0.333
    json.dumps(b.record)   # release.json is this record as JSON
    step_render(b)
    assert "These classes are hard to separate" in b.master.read_text()
    b.thresholds = next(iter(load_config().variant("bbc").calibration.values()))   # an entry not forced
    step_render(b)
    assert "hard to separate" not in b.master.read_text()


@pytest.mark.parametrize("entry, message", [
    ({"forced": "yes"}, ".forced: must be true or false, got 'yes'"),
    ({"measured": {"silhouette_last": [0.1, 0.2]}}, ".measured.silhouette_last: must be {mean, min, max} numbers"),
    ({"measured": {"knn_acc": 0.5}}, ".measured: unknown key(s) knn_acc"),
])
def test_a_bad_calibration_record_is_one_line(tmp_path, entry, message):
    import yaml
    from assignment.config import ConfigError
    data = yaml.safe_load(CONFIG_PATH.read_text())
    next(iter(data["variants"]["bbc"]["calibration"].values())).update(entry)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value).startswith(f"{path}: variants.bbc.calibration.") and message in str(e.value)
    assert "\n" not in str(e.value)


@pytest.mark.slow
def test_a_forced_variant_releases_and_says_so(noise, tmp_path):
    """A full release of the forced variant (notebook executed and graded, minutes): data that does not
    separate still verifies, release.json carries the override with its numbers, the notebook says so."""
    config = noise[0]
    out = tmp_path / "dist"
    proc = build("--config", str(config), "--variant", "noise", "--offline", "--out", str(out), timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    record = json.loads((out / "release.json").read_text())["variants"]["noise"]
    assert record["calibration"]["forced"] is True and record["calibration"]["measured"]["knn_chance"] == 0.333
    assert record["solution"]["score"] == record["solution"]["possible"] and record["blank"]["score"] == 0
    notebook = (out / "noise" / "student" / "lab8_noise.ipynb").read_text()
    assert "These classes are hard to separate" in notebook
