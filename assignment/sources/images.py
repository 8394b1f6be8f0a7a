"""Image helpers shared by the image sources: the CNN's input shape, and a seeded class-stratified subset."""
from __future__ import annotations

import numpy as np

SIZE = 32  # the image kind's input: uint8 (N, 32, 32, 3)


def stratified_indices(labels, n: int, seed: int, where: str = "") -> np.ndarray:
    """Sorted indices of a seeded sample with an equal share per class (the first ``n % k`` classes get one
    more). ``n`` 0, or at least the number of labels, keeps everything."""
    from replab.corpus import DataError

    labels = np.asarray(labels)
    if n <= 0 or n >= len(labels):
        return np.arange(len(labels))
    classes = np.unique(labels)
    rng = np.random.default_rng(seed)
    picked = []
    for k, c in enumerate(classes):
        share = n // len(classes) + (k < n % len(classes))
        members = np.flatnonzero(labels == c)
        if len(members) < share:
            raise DataError(f"{where}: class {c} has {len(members)} images, fewer than its share {share} of {n}")
        picked.append(rng.choice(members, size=share, replace=False))
    return np.sort(np.concatenate(picked))


def to_rgb32(images, where: str) -> np.ndarray:
    """uint8 (N, 32, 32, 3) from a dataset's pixel array: (N, H, W) grey, (N, H, W, C) or (N, C, H, W) with
    C of 1, 3 or 4 (alpha dropped); floats in [0, 1] are scaled to 0..255; other sizes are resized."""
    from replab.corpus import DataError

    a = np.asarray(images)
    if a.ndim == 3:
        a = a[..., None]
    if a.ndim == 4 and a.shape[1] in (1, 3, 4) and a.shape[3] not in (1, 3, 4):
        a = a.transpose(0, 2, 3, 1)  # channels first (SVHN, STL10) -> last
    if a.ndim != 4 or a.shape[3] not in (1, 3, 4):
        raise DataError(f"{where}: images of shape {a.shape[1:]} are not grey, RGB or RGBA pictures")
    if a.dtype != np.uint8:
        a = a.astype(np.float64)
        scale = 255.0 if a.size and a.max() <= 1.0 else 1.0
        a = np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)
    a = a[..., :3] if a.shape[3] != 1 else np.repeat(a, 3, axis=3)
    if a.shape[1:3] != (SIZE, SIZE):
        from PIL import Image
        resized = [resize_rgb32(Image.fromarray(im)) for im in a]
        a = np.stack(resized) if resized else np.zeros((0, SIZE, SIZE, 3), np.uint8)
    return np.ascontiguousarray(a)


def resize_rgb32(picture) -> np.ndarray:
    """One PIL picture as uint8 (32, 32, 3): converted to RGB, squeezed to 32×32 (the aspect ratio is not
    kept: a class folder's pictures usually share one) with an antialiased bilinear filter."""
    from PIL import Image
    return np.asarray(picture.convert("RGB").resize((SIZE, SIZE), Image.Resampling.BILINEAR), dtype=np.uint8)
