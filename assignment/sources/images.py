"""Image helpers shared by the image sources: the CNN's input shape, a seeded class-stratified subset, and
pictures as files hold them (transparency, palettes, greyscale, 16 bits, CMYK, EXIF rotation) made RGB."""
from __future__ import annotations

import numpy as np

SIZE = 32  # the image kind's input: uint8 (N, 32, 32, 3)
WHITE = (255, 255, 255)

# What rgb_picture may do to a picture, in the order the load's summary line counts them.
CONVERSIONS = ("transparency", "palette", "greyscale", "16-bit greyscale", "CMYK", "other colour space",
               "EXIF-rotated")


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


def rgb_picture(picture, background=WHITE):
    """One opened PIL picture as an RGB picture, and the CONVERSIONS that made it so (a list, maybe empty).

    Pillow's own ``convert("RGB")`` (what torchvision's loader does) drops an alpha channel, so the
    transparent background of an icon — usually stored as (0, 0, 0, 0) — turns black and every icon looks
    alike; it also clips 16-bit greyscale at 255 (nearly all white). Here transparency is composited on
    ``background``, 16-bit values are scaled to 8 bits, and the EXIF orientation a camera wrote is applied,
    so the pixels are what a viewer shows."""
    from PIL import ExifTags, Image, ImageOps

    done = []
    if picture.getexif().get(ExifTags.Base.Orientation, 1) not in (1, None):
        picture = ImageOps.exif_transpose(picture)
        done.append("EXIF-rotated")
    mode = picture.mode
    if mode in ("P", "PA"):
        done.append("palette")
        # a palette's transparent index (or PA's alpha) becomes an alpha channel, composited below
        picture = picture.convert("RGBA" if mode == "PA" or "transparency" in picture.info else "RGB")
    elif mode in ("1", "L", "LA", "La"):
        done.append("greyscale")
    elif mode.startswith("I") or mode == "F":
        done.append("16-bit greyscale")
        picture = Image.fromarray(_grey_to_8bit(picture))
    elif mode == "CMYK":
        done.append("CMYK")
    elif mode not in ("RGB", "RGBA", "RGBa", "RGBX"):
        done.append("other colour space")   # YCbCr, LAB, HSV
        picture = picture.convert("RGB")
    if picture.mode in ("L", "RGB") and "transparency" in picture.info:   # a tRNS colour key (PNG)
        picture = picture.convert("RGBA")
    if picture.mode in ("RGBA", "RGBa", "LA", "La"):
        rgba = picture.convert("RGBA")
        if rgba.getextrema()[3][0] < 255:   # some pixel is not opaque: what a viewer shows over the background
            done.insert(0, "transparency")
            plate = Image.new("RGBA", rgba.size, (*background, 255))
            return Image.alpha_composite(plate, rgba).convert("RGB"), done
        picture = rgba
    return picture.convert("RGB"), done


def _grey_to_8bit(picture) -> np.ndarray:
    """uint8 greyscale from Pillow's integer or float greyscale modes: 16-bit (I;16*) scaled by 1/257;
    32-bit integer (I: 16-bit PNGs in older Pillows, TIFFs) scaled by the range its values use (8, 16 or
    32 bits); float (F) read as 0..1 when it stays within it, else as 0..255."""
    a = np.asarray(picture, dtype=np.float64)
    top = float(a.max()) if a.size else 0.0
    if picture.mode == "F":
        scale = 255.0 if top <= 1.0 else 1.0
    elif picture.mode.startswith("I;16"):
        scale = 1 / 257
    else:
        scale = 1.0 if top <= 255 else 1 / 257 if top <= 65535 else 255 / 4294967295
    return np.clip(np.rint(a * scale), 0, 255).astype(np.uint8)


def describe_conversions(counts: dict, background=WHITE) -> str:
    """``494 with transparency composited on white, 12 palette, …`` from {conversion: pictures}, in the
    order of CONVERSIONS; conversions that did not happen are left out."""
    colour = {WHITE: "white", (0, 0, 0): "black"}.get(tuple(background), f"{list(background)}")
    words = {"transparency": f"with transparency composited on {colour}",
             "16-bit greyscale": "16-bit greyscale scaled to 8 bits"}
    return ", ".join(f"{counts[c]} {words.get(c, c)}" for c in CONVERSIONS if counts.get(c))
