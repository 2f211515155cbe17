from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylenet.nn.transformer import TransformerNet
from tests.helpers.scripts import load_script

make_gallery = load_script("make_gallery")


def write_checkpoint(path: Path, styles: list[str], seed: int) -> str:
    torch.manual_seed(seed)
    norm = "conditional_instance" if len(styles) > 1 else "instance"
    net = TransformerNet(width=0.125, num_res_blocks=1, norm=norm, num_styles=len(styles))
    if len(styles) > 1:  # distinct (γ, β) per style, so that blends differ
        for module in net.modules():
            if hasattr(module, "gamma"):
                torch.nn.init.uniform_(module.gamma, 0.5, 1.5)
                torch.nn.init.uniform_(module.beta, -0.5, 0.5)
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "hyper_parameters": {"model": dict(net.config), "styles": styles, "facts": {}},
        },
        path,
    )
    return str(path)


def test_gallery_has_a_row_per_photo_plus_the_blend_row(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = []
    for i, size in enumerate([(80, 60), (50, 90)]):
        photos.append(tmp_path / f"p{i}.png")
        Image.fromarray(np.random.default_rng(i).integers(0, 255, (*size[::-1], 3), np.uint8)).save(
            photos[-1]
        )
    singles = [write_checkpoint(tmp_path / f"{n}.ckpt", [n], i) for i, n in enumerate("ab")]
    multi = write_checkpoint(tmp_path / "multi.ckpt", ["a", "b", "c"], 7)
    out = tmp_path / "gallery.jpg"
    argv = ["make_gallery", "--models", *singles, "--multi", multi, "--blend", "a", "c"]
    argv += ["--photos", *map(str, photos), "--size", "40", "--out", str(out)]
    monkeypatch.setattr(sys, "argv", [*argv, "--no-arbitrary"])
    make_gallery.main()
    with Image.open(out) as page:
        width, height = page.size
    padding, caption = 6, 22
    assert width == padding + 3 * (40 + padding)  # photo + two style columns
    assert height == padding + 2 * caption + 3 * (40 + padding)  # titles, blend captions
    styles = tmp_path / "styles"
    styles.mkdir()
    for index, (file, *_rest) in enumerate(make_gallery.UNTRAINED):
        picture = np.random.default_rng(index).integers(0, 255, (200, 240, 3), np.uint8)
        Image.fromarray(picture).save(styles / file)
    monkeypatch.setattr(sys, "argv", [*argv, "--styles", str(styles)])
    make_gallery.main()
    with Image.open(out) as page:
        assert page.size == (width, height + 2 * (caption + 40 + padding))  # paintings, results


def test_blend_row_walks_from_one_style_to_the_other(tmp_path: Path) -> None:
    from stylenet.serve.loader import load_stylizer

    multi = load_stylizer(write_checkpoint(tmp_path / "m.ckpt", ["a", "b"], 3), device="cpu")
    photo = np.random.default_rng(0).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    row = make_gallery.blend_row(photo, multi, "a", "b", 3)
    assert row.captions == ["blend:", "a 100%", "b 50%", "b 100%"]
    only_a = make_gallery.stylize_array(multi, photo, style_weights=np.array([1.0, 0.0]))
    np.testing.assert_array_equal(row.tiles[1], only_a)
    assert not np.array_equal(row.tiles[1], row.tiles[3])


def test_columns_follow_the_multi_style_order_then_the_rest() -> None:
    names = ["composition_vii", "starry_night", "extra", "wave", "the_scream"]
    order = ["starry_night", "the_scream", "wave", "composition_vii", "udnie"]
    assert make_gallery.ordered_like(names, order) == [
        "starry_night",
        "the_scream",
        "wave",
        "composition_vii",
        "extra",
    ]
    assert make_gallery.ordered_like(["b.ckpt", "dir/a.onnx"], ["a", "b"]) == [
        "dir/a.onnx",
        "b.ckpt",
    ]
