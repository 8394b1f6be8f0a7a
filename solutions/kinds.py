"""A kind (text, image) is one spec: everything the lab does differently for texts and for images.

The reference pipeline, the judge's checks and probes, the public tests and the notebook templates all
read a variant's kind from here; nowhere else branches on it. A new kind is one more entry in KINDS
and one block file templates/kinds/<name>.ipynb.j2.

Both models take the same constructor arguments, ``Model(n_inputs, n_classes, hidden)``: n_inputs is
the width of a feature row for text and the number of colour channels for images, i.e. ``x.shape[1]``
in both cases.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable

# Nothing heavy at import: the config reads KINDS on every load, long before any model is built.

IMAGE_SHAPE = (3, 32, 32)   # channels, height, width of every image corpus (sources resize to this)


@dataclass(frozen=True)
class Kind:
    name: str
    model_name: str             # the model class the notebook defines (q1 completes its forward), in solutions.models
    layer: str                  # attribute name of the hooked layer
    reads: str                  # "pre" (the layer's output) or "post" (after the ReLU that follows it)
    item: str                   # what one row is, in words: "article", "image"
    model_words: str            # the model, in words
    depth: int                  # how many hidden widths the model takes (config: hidden)
    features: Callable          # (corpus, is_test, max_features) -> float32 tensor of model inputs
    probe_input: Callable       # (generator, rows, n_inputs) -> a random batch shaped like the model's inputs

    @property
    def model(self) -> type:
        return getattr(importlib.import_module("solutions.models"), self.model_name)

    @property
    def template(self) -> str:
        """The notebook blocks of this kind (templates/kinds/)."""
        return f"kinds/{self.name}.ipynb.j2"

    def args(self, n_inputs: int, n_classes: int, hidden) -> list:
        """The constructor's arguments, in the order the notebook passes them."""
        return [int(n_inputs), int(n_classes), list(hidden)]

    def build(self, n_inputs: int, n_classes: int, hidden):
        return self.model(int(n_inputs), int(n_classes), tuple(hidden))

    def hooked_layer(self, model):
        return getattr(model, self.layer)

    def describe(self, reading: str, dim: int) -> str:
        side = "before" if reading == "pre" else "after"
        return f"the {dim}-d layer {self.layer}'s output {side} its ReLU"


def _text_features(corpus, is_test, max_features: int):
    import torch
    from replab.features import tfidf_features
    return torch.from_numpy(tfidf_features(corpus.texts, is_test, max_features)[0])


def _image_features(corpus, is_test, max_features: int):
    from replab.features import image_tensor
    return image_tensor(corpus.images)


def _uniform(gen, rows: int, n_inputs: int):
    import torch
    return torch.rand((rows, n_inputs), generator=gen)


def _normal_images(gen, rows: int, n_inputs: int):
    import torch
    return torch.randn((rows, n_inputs, *IMAGE_SHAPE[1:]), generator=gen)


KINDS = {
    # TF-IDF rows in [0, 1]: uniform noise of the same width probes the MLP
    "text": Kind("text", "TextMLP", layer="fc2", reads="pre", item="article", model_words="MLP", depth=2,
                 features=_text_features, probe_input=_uniform),
    # normalised pixels: standard normal noise in the image shape probes the CNN
    "image": Kind("image", "ImageCNN", layer="fc1", reads="post", item="image", model_words="CNN", depth=1,
                  features=_image_features, probe_input=_normal_images),
}


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        raise KeyError(f"unknown kind {name!r} (known: {', '.join(KINDS)})")
    return KINDS[name]
