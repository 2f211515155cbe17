from __future__ import annotations

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.gatys import build_loss, run
from stylenet.errors import ConfigError, ImageError
from tests.helpers.cli import cli_error_line
from tests.helpers.images import synthetic_rgb


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            config_name="gatys",
            overrides=["perceptual=random", "progress=false", "iterations=2", *overrides],
        )


@pytest.fixture
def pictures(tmp_path: Path) -> tuple[Path, Path, Path]:
    paths = []
    for i, name in enumerate(("photo.png", "a.png", "b.jpg")):
        path = tmp_path / name
        Image.fromarray(synthetic_rgb(40, 56, seed=i)).save(path)
        paths.append(path)
    return tuple(paths)


@pytest.mark.slow
def test_stylizes_with_a_blend_of_two_styles(tmp_path: Path, pictures) -> None:
    photo, a, b = pictures
    out = run(
        config(
            f"content={photo}",
            f"style=[{a},{b}]",
            "style_blend=[0.7,0.3]",
            "size=48",
            "original_colors=true",
            "style_scale=0.8",
            f"output={tmp_path / 'out.png'}",
        )
    )
    assert Image.open(out).size == (48, 34)


@pytest.mark.slow
def test_texture_synthesis_without_content(tmp_path: Path, pictures) -> None:
    _, a, _ = pictures
    out = run(config(f"style={a}", "size=[36,52]", f"output={tmp_path / 't.png'}"))
    assert Image.open(out).size == (52, 36)


@pytest.mark.slow
def test_adam_noise_init_and_snapshots(tmp_path: Path, pictures) -> None:
    photo, a, _ = pictures
    out = tmp_path / "adam.png"
    run(
        config(
            f"content={photo}",
            f"style={a}",
            "size=40",
            "optimizer=adam",
            "init=noise",
            "save_every=1",
            "perceptual.pooling=avg",
            "dream_weight=1",
            "dream_layer=relu1_1",
            f"output={out}",
        )
    )
    assert sorted(p.name for p in (tmp_path / "adam_steps").iterdir()) == [
        "s1_00001.png",
        "s1_00002.png",
    ]


@pytest.mark.slow
def test_init_from_an_image_file(tmp_path: Path, pictures) -> None:
    photo, a, b = pictures
    out = run(config(f"content={photo}", f"style={a}", f"init={b}", f"output={tmp_path / 'i.png'}"))
    assert out.is_file()


@pytest.mark.slow
@pytest.mark.parametrize(
    ("override", "error", "message"),
    [
        ("style_blend=[1,2,3]", ConfigError, "style_blend has 3 weight"),
        ("perceptual.pooling=median", ConfigError, "perceptual.pooling must be max or avg"),
        ("perceptual.style_weight=-1", ConfigError, r"perceptual\.style_weight must be >= 0"),
        ("optimizer=sgd", ConfigError, "optimizer must be one of lbfgs, adam"),
        ("num_scales=5", ConfigError, "use fewer scales"),
        ("precision=fp8", ConfigError, "precision must be one of"),
        ("init=missing.png", ImageError, "image not found"),
    ],
)
def test_bad_options_raise_one_clear_error(pictures, override, error, message) -> None:
    photo, a, b = pictures
    with pytest.raises(error, match=message):
        run(config(f"content={photo}", f"style=[{a},{b}]", "size=48", override))


@pytest.mark.slow
def test_command_prints_one_error_line_and_exits_2(tmp_path: Path, pictures) -> None:
    photo, _, _ = pictures
    line = cli_error_line(
        "gatys", f"content={photo}", "style=nope.jpg", "perceptual=random", cwd=tmp_path
    )
    assert line.startswith("stylenet: error: image not found: nope.jpg")


def test_the_loss_weights_and_pooling_come_from_perceptual_and_its_overrides() -> None:
    """One place per knob: perceptual's file gives the default, perceptual.<knob>= changes it."""
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        shipped = compose(config_name="gatys", overrides=["style=a.jpg"])
    assert shipped.perceptual.weights == "vgg19_caffe"
    assert (shipped.perceptual.content_weight, shipped.perceptual.style_weight) == (1.0, 5.0)
    assert shipped.perceptual.tv_weight == 100.0 and shipped.perceptual.pooling == "max"
    for knob in ("content_weight", "style_weight", "tv_weight", "pooling"):
        assert knob not in shipped, f"gatys.yaml repeats perceptual.{knob}"
    default = build_loss(config("style=a.jpg"))
    assert (default.content_weight, default.style_weight, default.tv_weight) == (1.0, 1.0e4, 1.0e-2)
    loss = build_loss(
        config(
            "style=a.jpg",
            "perceptual.style_weight=20",
            "perceptual.content_weight=0.5",
            "perceptual.tv_weight=3",
            "perceptual.pooling=avg",
        )
    )
    assert (loss.content_weight, loss.style_weight, loss.tv_weight) == (0.5, 20.0, 3.0)
    assert loss.vgg.pooling == "avg" and default.vgg.pooling == "max"


@pytest.mark.slow
def test_a_loss_option_outside_perceptual_is_unknown(tmp_path: Path) -> None:
    line = cli_error_line("gatys", "style=a.jpg", "style_weight=3", cwd=tmp_path)
    assert line.startswith("stylenet: error: unknown option style_weight; valid options:")
