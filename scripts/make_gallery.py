"""The gallery of the shipped models (docs/gallery.jpg): rows of held-out photos, a column per
single-style model, plus a row of blends from the multi-style model.

    python scripts/make_gallery.py                                  # shipped models, val2017
    python scripts/make_gallery.py --photos a.jpg b.jpg --blend starry_night wave \\
        --out docs/gallery.jpg

Photos are centre-cropped to squares of ``--size`` px. Shipped columns follow the multi-style
model's style order (the rest after, by name); the real-time variants (``*_fast``) are left
out. The blend row stylizes the first
photo with the multi-style model, walking from the first ``--blend`` style to the second.
The last two rows show the arbitrary-style network (no training) on paintings no model was
trained on, made from the shared ones (:data:`UNTRAINED`: a detail, recoloured): the
paintings, then the first photo in their style (the last column at strength 0.5).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from stylenet.data.image_files import read_array, resize_array, write_image
from stylenet.resources import shared_data_dir
from stylenet.serve.figure import FigureRow, captioned_grid
from stylenet.serve.loader import load_stylizer, shipped_models
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.stylizer import Stylizer
from stylenet.styles import weights_from_blend

MULTI_STYLE = "multi_style"
REAL_TIME_SUFFIX = "_fast"  # starry_night_fast: a smaller network for a style that has a column
# val2017 photos picked for variety: an animal, a portrait, a street, a landscape.
DEFAULT_PHOTOS = ("000000000285.jpg", "000000001296.jpg", "000000001584.jpg", "000000002532.jpg")


def square(image: np.ndarray, size: int) -> np.ndarray:
    """Centre square crop of an ``H×W×3`` uint8 image, resized to ``size×size``."""
    height, width = image.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    crop = np.ascontiguousarray(image[top : top + side, left : left + side])
    return resize_array(crop, size=(size, size))


# Paintings no model was trained on: (painting, crop box as fractions, channel order, name).
UNTRAINED = (
    ("shipwreck.jpg", (0.0, 0.0, 0.55, 0.5), (2, 1, 0), "shipwreck sky, blue"),
    ("the_scream.jpg", (0.0, 0.0, 1.0, 0.45), (1, 2, 0), "scream sky, green"),
    ("composition_vii.jpg", (0.5, 0.5, 1.0, 1.0), (2, 0, 1), "kandinsky detail"),
)


def untrained_paintings(styles_dir: Path) -> list[tuple[str, np.ndarray]]:
    """:data:`UNTRAINED` made from the shared paintings: ``(name, H×W×3 uint8)``."""
    made = []
    for file, (left, top, right, bottom), channels, name in UNTRAINED:
        image = read_array(styles_dir / file)
        height, width = image.shape[:2]
        crop = image[
            int(top * height) : int(bottom * height), int(left * width) : int(right * width)
        ]
        made.append((name, np.ascontiguousarray(crop[..., list(channels)])))
    return made


def arbitrary_rows(
    photo: np.ndarray, paintings: list[tuple[str, np.ndarray]], columns: int
) -> list[FigureRow]:
    """The paintings above ``photo`` stylized with each (no training); ``columns`` tiles a row:
    the photo, one result per painting, then (more columns) the paintings again at strength 0.5."""
    from stylenet.serve.arbitrary import ArbitraryNetwork, PaintingStylizer

    network = ArbitraryNetwork()
    size = photo.shape[0]
    blank = np.full_like(photo, 255)
    tiles, results, captions, labels = [blank], [photo], ["any painting:"], ["photo"]
    picked = paintings[: columns - 1]
    for index in range(columns - 1):
        name, painting = picked[index % len(picked)]
        strength = 1.0 if index < len(picked) else 0.5  # more columns: the same at half
        stylizer = PaintingStylizer(network, network.painting(painting), strength=strength)
        tiles.append(square(painting, size))
        results.append(stylize_array(stylizer, photo))
        captions.append(name)
        labels.append("no training" if strength == 1.0 else "strength 0.5")
    return [FigureRow(tiles, captions), FigureRow(results, labels)]


def style_rows(photos: list[np.ndarray], models: dict[str, Stylizer]) -> list[FigureRow]:
    """A row per photo: the photo, then each model's stylization; titles on the first row."""
    rows = []
    for index, photo in enumerate(photos):
        tiles = [photo, *(stylize_array(stylizer, photo) for stylizer in models.values())]
        rows.append(FigureRow(tiles, ["photo", *models] if index == 0 else None))
    return rows


def ordered_like(names: list[str], order: list[str]) -> list[str]:
    """``names`` in the order of ``order`` (e.g. the multi-style model's styles), the rest after
    in their own order."""
    rank = {name: index for index, name in enumerate(order)}
    return sorted(names, key=lambda name: rank.get(Path(name).stem, len(order)))


def blend_row(photo: np.ndarray, multi: Stylizer, start: str, end: str, count: int) -> FigureRow:
    """``photo`` then ``count`` blends from style ``start`` to ``end`` (multi-style model)."""
    tiles, captions = [photo], ["blend:"]
    for step in range(count):
        t = step / (count - 1)
        weights = weights_from_blend(multi.styles, {start: 1 - t, end: t})
        tiles.append(stylize_array(multi, photo, style_weights=weights))
        captions.append(f"{start} {1 - t:.0%}" if t < 0.5 else f"{end} {t:.0%}")
    return FigureRow(tiles, captions)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=None, help="columns (default: shipped)")
    parser.add_argument("--multi", default=MULTI_STYLE, help="the multi-style model, or none")
    parser.add_argument("--blend", nargs=2, default=None, help="two styles of the multi model")
    parser.add_argument(
        "--photos", nargs="*", default=None, help="photo files (default: 4 of val2017)"
    )
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--styles", default=None, help="the shared paintings (UNTRAINED's source)")
    parser.add_argument(
        "--no-arbitrary",
        dest="arbitrary",
        action="store_false",
        help="leave out the arbitrary rows",
    )
    parser.add_argument("--out", default="docs/gallery.jpg")
    args = parser.parse_args()
    has_multi = args.multi != "none" and (
        args.multi in shipped_models() or Path(args.multi).exists()
    )
    multi = load_stylizer(args.multi, device="cpu") if has_multi else None
    names = args.models or [
        m for m in shipped_models() if m != MULTI_STYLE and not m.endswith(REAL_TIME_SUFFIX)
    ]
    if not args.models and multi is not None:
        names = ordered_like(names, multi.styles)
    models = {Path(name).stem: load_stylizer(name, device="cpu") for name in names}
    paths = args.photos or [Path(shared_data_dir("coco/val2017")) / name for name in DEFAULT_PHOTOS]
    photos = [square(read_array(path), args.size) for path in paths]
    rows = style_rows(photos, models)
    if multi is not None and len(models) >= 2:
        start, end = args.blend or multi.styles[:2]
        rows.append(blend_row(photos[0], multi, start, end, len(models)))
    else:
        print(f"no multi-style model {args.multi!r} or < 2 columns: the gallery has no blend row")
    styles_dir = Path(args.styles or shared_data_dir("styles"))
    missing = [file for file, *_ in UNTRAINED if not (styles_dir / file).is_file()]
    if args.arbitrary and missing:
        print(f"{styles_dir} lacks {', '.join(missing)}: the gallery has no arbitrary-style rows")
    elif args.arbitrary:
        rows += arbitrary_rows(photos[0], untrained_paintings(styles_dir), len(rows[0].tiles))
    print(write_image(captioned_grid(rows), args.out, quality=90))


if __name__ == "__main__":
    main()
