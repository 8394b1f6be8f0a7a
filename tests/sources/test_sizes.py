"""check_sizes: a corpus too small for the held-out split is one line naming the variant, the class and
its count; the config's data_checks set the numbers, a variant's own block changes them for it alone."""
import pytest
import yaml

from assignment.config import CONFIG_PATH, ConfigError, DataChecks, load_config
from assignment.sources import check_sizes
from replab.corpus import Corpus, DataError


def corpus(counts: dict, source="path /courses/icons"):
    labels = [c for c, n in counts.items() for _ in range(n)]
    return Corpus(name="icons", titles=[f"t{i}" for i in range(len(labels))], labels=labels,
                  texts=["x"] * len(labels), source=source)


def test_enough_of_everything_passes():
    check_sizes(corpus({"moon": 8, "star": 8, "sun": 30}), DataChecks(), 0.25)


def test_a_small_class_is_named_with_its_count():
    with pytest.raises(DataError) as e:
        check_sizes(corpus({"moon": 8, "star": 2, "sun": 30}), DataChecks(), 0.25)
    assert str(e.value) == ("variant icons: class 'star' has 2 items; at least 8 are needed per class "
                            "(the held-out quarter needs 2) [path /courses/icons]")


def test_every_small_class_is_in_the_one_line():
    with pytest.raises(DataError) as e:
        check_sizes(corpus({"moon": 5, "star": 1, "sun": 30, "comet": 7}), DataChecks(), 0.3)
    assert str(e.value) == ("variant icons: class 'star' has 1 item; at least 8 are needed per class "
                            "(the held-out 30% needs 2); also under 8: 'moon' 5, 'comet' 7 [path /courses/icons]")


def test_too_few_classes():
    with pytest.raises(DataError) as e:
        check_sizes(corpus({"moon": 40, "star": 40}), DataChecks(), 0.25)
    assert str(e.value) == ("variant icons: 2 classes (moon, star); at least 3 are needed (data_checks.min_classes) "
                            "[path /courses/icons]")
    check_sizes(corpus({"moon": 40, "star": 40}), DataChecks(min_classes=2), 0.25)


def _config(tmp_path, mutate):
    data = yaml.safe_load(CONFIG_PATH.read_text())
    mutate(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def test_the_shipped_defaults_and_a_variants_own():
    cfg = load_config()
    assert cfg.data_checks == DataChecks() and DataChecks().min_items_per_class == 8
    assert all(v.data_checks == cfg.data_checks for v in cfg.variants.values())


def test_a_variant_may_change_its_own(tmp_path):
    path = _config(tmp_path, lambda d: d["variants"]["bbc"].update(data_checks={"min_classes": 2}))
    cfg = load_config(path)
    assert cfg.variant("bbc").data_checks == DataChecks(min_classes=2)
    assert cfg.variant("wikipedia").data_checks == DataChecks()
    path = _config(tmp_path, lambda d: d["data_checks"].update(min_items_per_class=20))
    assert load_config(path).variant("bbc").data_checks.min_items_per_class == 20


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["data_checks"].update(min_items_per_class=1), "data_checks.min_items_per_class: must be at least 2, got 1"),
    (lambda d: d["data_checks"].update(min_classes=1), "data_checks.min_classes: must be at least 2"),
    (lambda d: d["data_checks"].update(min_item_per_class=3), "data_checks: unknown key(s) min_item_per_class"),
    (lambda d: d["variants"]["bbc"].update(data_checks={"min_heldout_silhouette_last_every_seed": 2}),
     "variants.bbc.data_checks.min_heldout_silhouette_last_every_seed: must lie in [-1, 1], got 2"),
    (lambda d: d["variants"]["bbc"].update(data_checks={"min_classes": "three"}),
     "variants.bbc.data_checks.min_classes: must be an integer, got 'three'"),
    (lambda d: d["variants"]["bbc"].update(data_checks=[8]), "variants.bbc.data_checks: must be a mapping, got [8]"),
])
def test_a_bad_data_check_is_one_line(tmp_path, mutate, message):
    path = _config(tmp_path, mutate)
    with pytest.raises(ConfigError) as e:
        load_config(path)
    assert str(e.value).startswith(str(path)) and message in str(e.value) and "\n" not in str(e.value)
