from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.stylize import run
from stylenet.data.color import rgb_to_yiq
from stylenet.data.image_files import read_array
from stylenet.errors import CheckpointError, ConfigError, ImageError, ModelFileError
from stylenet.export.onnx import export_onnx
from stylenet.nn.transformer import TransformerNet
from tests.helpers.cli import cli_error_line
from tests.helpers.images import synthetic_rgb
from tests.serve.clips import read_clip, static_clip, write_clip

STYLES = ["starry_night", "wave", "udnie", "the_scream"]


def save_checkpoint(net: TransformerNet, styles: list[str], path: Path) -> Path:
    """A checkpoint per the contract in stylenet.nn.checkpoint."""
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    hparams = {"model": dict(net.config), "styles": styles, "facts": {}}
    torch.save({"state_dict": state, "hyper_parameters": hparams, "global_step": 3}, path)
    return path


@pytest.fixture
def single(tmp_path: Path) -> Path:
    return save_checkpoint(TransformerNet(0.125, 1), ["wave"], tmp_path / "wave.ckpt")


@pytest.fixture
def multi(tmp_path: Path) -> Path:
    torch.manual_seed(1)
    net = TransformerNet(0.125, 1, norm="conditional_instance", num_styles=len(STYLES))
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if name.endswith(("gamma", "beta")):
                parameter.uniform_(0.2, 2.0)
    return save_checkpoint(net, STYLES, tmp_path / "multi.ckpt")


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name="stylize", overrides=list(overrides))


def photo(path: Path, height: int = 45, width: int = 61, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(synthetic_rgb(height, width, seed=seed)).save(path)
    return path


def test_one_image_keeps_its_odd_size(single: Path, tmp_path: Path) -> None:
    source = photo(tmp_path / "in.png")
    [out] = run(config(f"model={single}", f"input={source}", f"output={tmp_path / 'o.jpg'}"))
    assert out == tmp_path / "o.jpg" and Image.open(out).size == (61, 45)


@pytest.mark.slow
def test_size_strength_and_preserve_color(single: Path, tmp_path: Path) -> None:
    source = photo(tmp_path / "in.png", 80, 120)
    [small] = run(
        config(f"model={single}", f"input={source}", f"output={tmp_path / 's.png'}", "size=60")
    )
    assert Image.open(small).size == (60, 40)
    [same] = run(
        config(f"model={single}", f"input={source}", f"output={tmp_path / 'z.png'}", "strength=0")
    )
    assert (
        np.abs(np.asarray(Image.open(same), float) - np.asarray(Image.open(source), float)).max()
        <= 1
    )
    [kept] = run(
        config(
            f"model={single}",
            f"input={source}",
            f"output={tmp_path / 'c.png'}",
            "preserve_color=true",
        )
    )
    kept_yiq, source_yiq = (rgb_to_yiq(read_array(p) / 255.0) for p in (kept, source))
    chroma = np.abs(kept_yiq[..., 1:] - source_yiq[..., 1:]).mean()
    assert chroma < 0.03


@pytest.mark.slow
def test_folder_skips_a_broken_file_and_mirrors_the_tree(
    single: Path, tmp_path: Path, capsys
) -> None:
    root = tmp_path / "photos"
    photo(root / "a.jpg")
    photo(root / "sub" / "b.png", seed=1)
    (root / "broken.jpg").write_bytes(b"not a jpeg")
    written = run(config(f"model={single}", f"input={root}", f"output={tmp_path / 'out'}"))
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in written) == [
        "a.jpg",
        "sub/b.png",
    ]
    assert "1 failed" in capsys.readouterr().err


def test_glob_input(single: Path, tmp_path: Path) -> None:
    for i in range(3):
        photo(tmp_path / "g" / f"p{i}.png", seed=i)
    written = run(
        config(f"model={single}", f"input={tmp_path / 'g' / '*.png'}", f"output={tmp_path / 'o'}")
    )
    assert len(written) == 3 and all(p.parent == tmp_path / "o" for p in written)


@pytest.mark.slow
def test_multi_style_choice_blend_and_list(multi: Path, tmp_path: Path, capsys) -> None:
    source = photo(tmp_path / "in.png", 48, 48)
    outs = {}
    for name, option in (
        ("wave", "style=wave"),
        ("blend", "blend={wave: 2.0}"),
        ("mix", "blend={wave: 0.5, udnie: 0.5}"),
    ):
        [path] = run(
            config(f"model={multi}", f"input={source}", f"output={tmp_path / name}.png", option)
        )
        outs[name] = np.asarray(Image.open(path), float)
    assert np.array_equal(outs["wave"], outs["blend"])
    assert np.abs(outs["wave"] - outs["mix"]).mean() > 1
    assert run(config(f"model={multi}", "list=true")) == []
    assert capsys.readouterr().out.split() == STYLES


@pytest.mark.parametrize(
    ("option", "match"),
    [
        ("blend={monet: 1}", "unknown style"),
        ("blend={wave: -1}", ">= 0"),
        ("blend={wave: 0}", "all zero"),
        ("style=monet", "unknown style"),
    ],
)
def test_bad_blends(multi: Path, tmp_path: Path, option: str, match: str) -> None:
    source = photo(tmp_path / "in.png")
    with pytest.raises(ConfigError, match=match):
        run(config(f"model={multi}", f"input={source}", option))


@pytest.mark.slow
def test_interpolation_grid_figure(multi: Path, tmp_path: Path) -> None:
    source = photo(tmp_path / "in.png", 40, 40)
    [figure] = run(
        config(
            f"model={multi}",
            f"input={source}",
            f"output={tmp_path / 'grid.png'}",
            "grid=[starry_night,wave,udnie,the_scream]",
            "grid_size=3",
            "size=40",
        )
    )
    padding, caption = 6, 22  # captioned_grid defaults; captions above the first and last rows
    assert Image.open(figure).size == (3 * 40 + 4 * padding, 3 * 40 + 4 * padding + 2 * caption)


@pytest.mark.slow
def test_onnx_model_matches_the_checkpoint(single: Path, tmp_path: Path) -> None:
    from stylenet.nn.checkpoint import load_transformer

    net, info = load_transformer(single)
    onnx_path = export_onnx(net, info, tmp_path / "wave.onnx")
    source = photo(tmp_path / "in.png", 37, 53)
    [a] = run(config(f"model={single}", f"input={source}", f"output={tmp_path / 'a.png'}"))
    [b] = run(config(f"model={onnx_path}", f"input={source}", f"output={tmp_path / 'b.png'}"))
    diff = np.abs(np.asarray(Image.open(a), float) - np.asarray(Image.open(b), float))
    assert diff.max() <= 2


@pytest.mark.slow
def test_video_input(single: Path, tmp_path: Path) -> None:
    clip = write_clip(tmp_path / "clip.mp4", static_clip(frames=6, height=48, width=64))
    [out] = run(config(f"model={single}", f"input={clip}", f"output={tmp_path / 'out.mp4'}"))
    frames, fps = read_clip(out)
    assert fps == pytest.approx(12.0) and len(frames) == 6 and frames[0].shape == (48, 64, 3)


def test_errors(single: Path, tmp_path: Path) -> None:
    source = photo(tmp_path / "in.png")
    with pytest.raises(CheckpointError, match="not found"):
        run(config(f"model={tmp_path / 'missing.ckpt'}", f"input={source}"))
    (tmp_path / "bad.onnx").write_bytes(b"garbage")
    with pytest.raises(ModelFileError):
        run(config(f"model={tmp_path / 'bad.onnx'}", f"input={source}"))
    with pytest.raises(ImageError, match="not found"):
        run(config(f"model={single}", f"input={tmp_path / 'nope.jpg'}"))
    with pytest.raises(ImageError, match="too small"):
        run(
            config(
                f"model={single}",
                f"input={photo(tmp_path / 't.png', 20, 20)}",
                f"output={tmp_path / 'x.png'}",
            )
        )
    with pytest.raises(ConfigError, match="strength"):
        run(config(f"model={single}", f"input={source}", "strength=2"))
    with pytest.raises(ConfigError, match="tile_calibration"):
        run(config(f"model={single}", f"input={source}", "tile_calibration=0"))
    with pytest.raises(ConfigError, match="several files"):
        photo(tmp_path / "two" / "a.png")
        photo(tmp_path / "two" / "b.png")
        run(
            config(f"model={single}", f"input={tmp_path / 'two'}", f"output={tmp_path / 'one.png'}")
        )


@pytest.mark.slow
def test_command_line_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    line = cli_error_line(
        "stylize",
        f"model={tmp_path / 'x.ckpt'}",
        "input=a.jpg",
        f"hydra.run.dir={tmp_path / 'run'}",
    )
    assert line == f"stylenet: error: checkpoint not found: {tmp_path / 'x.ckpt'} (check the path)"


@pytest.mark.slow
def test_the_stylize_command_starts_without_training_libraries() -> None:
    """torchvision and Lightning take seconds to import; serving needs neither."""
    code = (
        "import sys, stylenet.cli.stylize; "
        "print(sorted({'torchvision', 'lightning'} & set(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
