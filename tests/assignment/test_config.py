import pytest
import yaml

from assignment.config import CONFIG_PATH, ConfigError, load_config


def test_shipped_config_loads(cfg):
    assert set(cfg.variants) == {"wikipedia", "bbc", "cifar10"}
    assert cfg.epochs == 10
    wiki = cfg.variant("wikipedia")
    assert wiki.hidden == (256, 64) and wiki.embedding_dim == 64 and wiki.lr == 0.002 and wiki.batch_size == 0
    assert wiki.source["type"] == "mediawiki" and len(wiki.source["topics"]) == 6 and wiki.source["per_topic"] == 150
    cnn = cfg.variant("cifar10")
    assert cnn.kind == "image" and cnn.embedding_dim == 128 and cnn.batch_size == 128
    assert cnn.source["type"] == "torchvision" and cnn.source["n_images"] == 5000
    for variant in cfg.variants.values():   # every shipped variant is calibrated on at least one dataset
        assert variant.calibration and all(t.seeds >= 5 for t in variant.calibration.values()), variant.name


def _write(tmp_path, mutate):
    data = yaml.safe_load(CONFIG_PATH.read_text())
    mutate(data)
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["variants"]["bbc"].update(lr="fast"), "variants.bbc.lr: must be a number, got 'fast'"),
    (lambda d: d["variants"]["bbc"].update(lr=-1), "variants.bbc.lr: must be a positive number"),
    (lambda d: d.pop("epochs"), "epochs: missing"),
    (lambda d: d.update(test_fraction=1.5), "test_fraction: must lie in (0, 1)"),
    (lambda d: d["variants"]["wikipedia"]["source"].update(topics=["Only one"]), "variants.wikipedia.source.topics"),
    (lambda d: d["variants"]["cifar10"].update(topics=["A"]), "variants.cifar10: unknown key(s) topics"),
    (lambda d: d["variants"]["cifar10"].update(kind="audio"), "variants.cifar10.kind: must be one of text, image"),
    (lambda d: d["variants"]["cifar10"].update(hidden=[128, 64]), "variants.cifar10.hidden: must be a list of 1 positive"),
    (lambda d: d["variants"]["bbc"]["source"].update(type="ftp"), "variants.bbc.source.type"),
    (lambda d: d["points"].update(q9_extra=1), "points: unknown key(s) q9_extra"),
    (lambda d: next(iter(d["variants"]["bbc"]["calibration"].values())).update(silhouette_min=2),
     "silhouette_min: must lie in [-1, 1]"),
    (lambda d: d["variants"]["bbc"].update(calibration={"abc": {}}), "variants.bbc.calibration.abc: must be keyed by the data's sha256"),
    (lambda d: d.update(csv_name="out/x.csv"), "csv_name: must be a plain file name ending in .csv"),
])
def test_bad_config_is_one_clear_line(tmp_path, mutate, message):
    path = _write(tmp_path, mutate)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert text.startswith(str(path)) and message in text and "\n" not in text


def test_broken_yaml_names_the_line(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("name: x\nvariants: [\n")
    with pytest.raises(ConfigError, match=r"config.yaml: line \d+: not valid YAML"):
        load_config(path)
    with pytest.raises(ConfigError, match="file not found"):
        load_config(tmp_path / "missing.yaml")
