"""type: imagefolder — pictures as instructors' folders hold them (transparent icons, palettes, greyscale,
16-bit, CMYK, camera rotation), written here with PIL, load as a viewer shows them, counted in one line."""
import numpy as np
import pytest
from PIL import Image

from assignment.sources import load_corpus
from assignment.sources.images import describe_conversions

RED, BLUE, WHITE = (220, 30, 30), (20, 40, 220), (255, 255, 255)
yy, xx = np.mgrid[0:48, 0:48]
DISC = np.hypot(yy - 24, xx - 24) < 10   # a shape in the middle; the corners stay background


def icon(path, colour):
    """An RGBA icon as design tools export it: a coloured disc, everything else (0, 0, 0, 0)."""
    pixels = np.zeros((48, 48, 4), np.uint8)
    pixels[DISC] = (*colour, 255)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(pixels, "RGBA").save(path)


def load(root, **block):
    return load_corpus("icons", "image", {"type": "imagefolder", "path": str(root), **block}, live=False)


def icons(root, per_class=2):
    for label, colour in (("red", RED), ("blue", BLUE)):
        for i in range(per_class):
            icon(root / label / f"{label}_{i}.png", colour)
    return root


def test_transparent_icons_are_composited_on_white_not_black(tmp_path, capsys):
    root = icons(tmp_path / "icons")
    # what torchvision's loader (PIL's convert("RGB")) made of them: the background turns black
    assert Image.open(root / "red" / "red_0.png").convert("RGB").getpixel((0, 0)) == (0, 0, 0)
    corpus = load(root)
    for image, colour in zip(corpus.images, [BLUE, BLUE, RED, RED]):
        assert tuple(image[0, 0]) == tuple(image[2, 29]) == WHITE          # around the shape
        assert tuple(image[16, 16]) == colour                              # the shape itself
    assert capsys.readouterr().out == "icons: imagefolder: 4 pictures; converted: 4 with transparency composited on white\n"
    assert corpus.meta["conversions"] == {"transparency": 4}


def test_a_background_of_your_own(tmp_path, capsys):
    corpus = load(icons(tmp_path / "icons"), background=[0, 128, 0])
    assert tuple(corpus.images[0, 0, 0]) == (0, 128, 0) and tuple(corpus.images[0, 16, 16]) == BLUE
    assert "4 with transparency composited on [0, 128, 0]" in capsys.readouterr().out


def save(path, picture, **kw):
    path.parent.mkdir(parents=True, exist_ok=True)
    picture.save(path, **kw)


def test_palette_greyscale_16_bit_cmyk_and_rotation_become_the_rgb_a_viewer_shows(tmp_path, capsys):
    root = tmp_path / "mixed"
    # palette with a transparent index: the disc red, the rest transparent
    palette = Image.fromarray(DISC.astype(np.uint8), "L").convert("P")
    palette.putpalette([0, 0, 0, *RED] + [0] * 762)
    save(root / "a" / "palette_transparent.png", palette, transparency=0)
    # plain palette: two colours, no transparency
    plain = Image.fromarray(DISC.astype(np.uint8), "L").convert("P")
    plain.putpalette([*BLUE, *RED] + [0] * 762)
    save(root / "a" / "palette.png", plain)
    save(root / "a" / "grey.png", Image.new("L", (40, 40), 90))
    grey_alpha = np.zeros((48, 48, 2), np.uint8)
    grey_alpha[DISC] = (90, 255)
    save(root / "a" / "grey_alpha.png", Image.fromarray(grey_alpha, "LA"))
    # 16-bit greyscale: 128·257 is mid-grey; Pillow's convert("RGB") would clip it to 255 (white)
    save(root / "b" / "grey16.png", Image.fromarray(np.full((40, 40), 128 * 257, np.uint16)))
    save(root / "b" / "cmyk.tif", Image.new("CMYK", (40, 40), (0, 255, 255, 0)))   # pure red in ink
    # a camera's portrait photo: stored sideways (left half red, right half blue) with EXIF orientation 6,
    # "rotate 90° clockwise to show"; shown upright the red half is on top
    sideways = np.zeros((24, 48, 3), np.uint8)
    sideways[:, :24], sideways[:, 24:] = RED, BLUE
    exif = Image.Exif()
    exif[0x0112] = 6
    save(root / "b" / "rotated.png", Image.fromarray(sideways), exif=exif)

    corpus = load(root)
    px = dict(zip(corpus.titles, corpus.images))
    assert tuple(px["palette_transparent"][0, 0]) == WHITE and tuple(px["palette_transparent"][16, 16]) == RED
    assert tuple(px["palette"][0, 0]) == BLUE and tuple(px["palette"][16, 16]) == RED
    assert tuple(px["grey"][5, 5]) == (90, 90, 90)
    assert tuple(px["grey_alpha"][0, 0]) == WHITE and tuple(px["grey_alpha"][16, 16]) == (90, 90, 90)
    assert tuple(px["grey16"][5, 5]) == (128, 128, 128)
    assert tuple(px["cmyk"][5, 5]) == (255, 0, 0)
    assert tuple(px["rotated"][4, 16]) == RED and tuple(px["rotated"][28, 16]) == BLUE
    assert capsys.readouterr().out == (
        "icons: imagefolder: 7 pictures; converted: 2 with transparency composited on white, 2 palette, "
        "2 greyscale, 1 16-bit greyscale scaled to 8 bits, 1 CMYK, 1 EXIF-rotated\n")


def test_plain_rgb_pictures_print_nothing(tmp_path, capsys):
    for label, colour in (("red", RED), ("blue", BLUE)):
        save(tmp_path / "p" / label / "x.png", Image.new("RGB", (40, 40), colour))
        save(tmp_path / "p" / label / "opaque.png", Image.new("RGBA", (40, 40), (*colour, 255)))  # alpha unused
    corpus = load(tmp_path / "p")
    assert capsys.readouterr().out == "" and corpus.meta["conversions"] == {}
    assert tuple(corpus.images[0, 0, 0]) == BLUE


def test_the_summary_names_conversions_in_a_fixed_order():
    counts = {"EXIF-rotated": 2, "greyscale": 3, "palette": 12, "transparency": 494}
    assert describe_conversions(counts) == ("494 with transparency composited on white, 12 palette, 3 greyscale, "
                                            "2 EXIF-rotated")
    assert describe_conversions({"transparency": 1}, (0, 0, 0)) == "1 with transparency composited on black"


@pytest.mark.parametrize("value", [[255, 255], "white", [0, 0, 256], [True, 0, 0]])
def test_a_bad_background_is_one_line(value):
    from replab.corpus import DataError
    with pytest.raises(DataError, match=r"^icons.source.background: must be a colour as \[red, green, blue\], "
                                        r"each 0–255 \(e.g. \[255, 255, 255\] for white\), got "):
        load("anywhere", background=value)
