"""``type: imagefolder``: torchvision's ImageFolder layout, one sub-folder of pictures per class.

Pictures (any format Pillow reads that torchvision's ImageFolder accepts: .png, .jpg, .bmp, .webp, …)
become uint8 32×32 RGB as a viewer shows them: transparency composited on ``background`` (default white),
palette, greyscale (16-bit too) and CMYK pictures converted, EXIF rotation applied (images.rgb_picture);
the load prints one line counting what it converted. Label = the sub-folder's name, title = the file's
name without its extension.
Rows are ordered by class folder, then path; hidden files and folders are skipped.
data-dir layout: ``<data_dir>/<variant>/`` in the same layout. Real source: ``path`` (local, read even
offline).
"""
from __future__ import annotations

from pathlib import Path

from .common import Absent, Block
from .textdir import class_folders

KIND = "image"
KEYS = {"path", "per_class", "background"}


def validate(b: Block) -> dict:
    return {"path": b.path("path"),
            "per_class": b.integer("per_class", 0, meaning=" (pictures per class, by name; 0 = all)"),
            "background": b.rgb("background", [255, 255, 255])}


def real_source(source: dict) -> str:
    return "path"


def from_data_dir(name: str, source: dict, folder: Path, seed: int):
    return read_imagefolder(name, folder, source["per_class"], f"data-dir {folder}", source["background"])


def from_source(name: str, source: dict, cache_dir: Path, seed: int):
    path = Path(source["path"])
    if not path.is_dir():
        raise Absent(f"no folder {path}")
    return read_imagefolder(name, path, source["per_class"], f"path {path}", source["background"])


def read_imagefolder(name: str, root: Path, per_class: int, origin: str, background=(255, 255, 255)):
    import numpy as np
    from PIL import Image
    from replab.corpus import Corpus, DataError
    from replab.http import describe_error
    from torchvision.datasets import ImageFolder
    from torchvision.datasets.folder import IMG_EXTENSIONS, has_file_allowed_extension

    from .images import describe_conversions, resize_rgb32, rgb_picture

    folders = class_folders(root, "pictures")

    class VisibleImageFolder(ImageFolder):
        """ImageFolder that leaves out hidden folders (``.ipynb_checkpoints`` is not a class)."""

        def find_classes(self, directory):
            return [d.name for d in folders], {d.name: i for i, d in enumerate(folders)}

    def is_picture(path: str) -> bool:  # hidden files (macOS ``._x.png``) and hidden sub-folders are not pictures
        inside = Path(path).relative_to(root).parts
        return all(not part.startswith(".") for part in inside) and has_file_allowed_extension(path, IMG_EXTENSIONS)

    # allow_empty: an empty class is reported below, naming its folder, rather than as torchvision's message
    data = VisibleImageFolder(str(root), is_valid_file=is_picture, allow_empty=True)
    present = set(data.targets)
    empty = [d for i, d in enumerate(folders) if i not in present]
    if empty:
        raise DataError(f"{empty[0]}: no pictures in this class folder ({', '.join(IMG_EXTENSIONS[:4])}, …)")

    kept, seen = [], {}
    for path, target in data.samples:
        seen[target] = seen.get(target, 0) + 1
        if not per_class or seen[target] <= per_class:
            kept.append((Path(path), target))
    images, converted = [], {}
    background = tuple(background)
    for path, _ in kept:
        try:
            # not data.loader: torchvision's loader converts to RGB by dropping alpha (transparent → black)
            with Image.open(path) as opened:
                picture, done = rgb_picture(opened, background)
            images.append(resize_rgb32(picture))
        except (OSError, ValueError, Image.DecompressionBombError) as e:  # truncated, not a picture, too big
            raise DataError(f"{path}: not a readable picture ({describe_error(e)})") from None
        for conversion in done:
            converted[conversion] = converted.get(conversion, 0) + 1
    if converted:   # one line for the whole folder: what the instructor's files held that plain RGB does not
        print(f"{name}: imagefolder: {len(kept)} pictures; converted: {describe_conversions(converted, background)}")
    return Corpus(name=name, titles=[p.stem for p, _ in kept], labels=[data.classes[t] for _, t in kept],
                  images=np.stack(images), source=origin,
                  meta={"per_class": per_class, "conversions": converted})
