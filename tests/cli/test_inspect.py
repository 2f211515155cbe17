"""stylenet-inspect: every method end to end on tiny photos with a random VGG; the feature
cache; one-line errors."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli import inspect as inspect_cli
from stylenet.cli.config import config_dir
from stylenet.cli.inspect import run
from stylenet.errors import ConfigError, ImageError, MissingExtraError
from tests.conftest import cli_error_line

BASE = ["classifier=random", "size=32", "tile=24", "k=3", "rows=2", "progress=false"]


def config(tmp_path: Path, *overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(
            config_name="inspect", overrides=[*BASE, f"cache_dir={tmp_path / 'cache'}", *overrides]
        )


def test_filters_of_vgg_and_of_a_checkpoint(tmp_path: Path) -> None:
    [first] = run(config(tmp_path, "method=filters", f"output={tmp_path / 'f.png'}"))
    assert Image.open(first).width > 8 * 12  # 64 filters in rows of 8
    [deeper] = run(config(tmp_path, "method=filters", "layer=conv2_1", "channels=[0,5]",
                          "filters.inputs=4", f"output={tmp_path / 'g.png'}"))  # fmt: skip
    assert Image.open(deeper).size[0] > 4 * 12


def test_activations_one_picture_per_layer(tmp_path: Path, image_file: Path) -> None:
    written = run(config(tmp_path, "method=activations", f"image={image_file}",
                         "layers=[relu1_1,relu2_1]", f"output={tmp_path / 'maps'}"))  # fmt: skip
    assert [p.name for p in written] == ["relu1_1.png", "relu2_1.png"]
    assert all(p.is_file() for p in written)


def test_patches_and_the_cache(
    tmp_path: Path, image_folder: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    args = ["method=patches", f"images={image_folder}", "layer=relu2_1"]
    [out] = run(config(tmp_path, *args, f"output={tmp_path / 'p.png'}"))
    assert "computed" in capsys.readouterr().out
    width, height = Image.open(out).size
    assert width > 3 * 24 and height > 2 * 24  # 2 channels × 3 photos

    def no_compute(*_args, **_kwargs):
        raise AssertionError("features were recomputed")

    monkeypatch.setattr("stylenet.cli.inspect_network.folder_features", no_compute)
    run(config(tmp_path, *args, f"output={tmp_path / 'p2.png'}"))
    assert "from the cache" in capsys.readouterr().out
    assert Image.open(tmp_path / "p2.png").size == (width, height)


@pytest.mark.slow
def test_neighbors_of_a_folder_photo_start_with_itself(
    tmp_path: Path, image_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {}
    real = inspect_cli.nearest

    def spy(queries, base, k, metric):
        seen.setdefault(metric, []).append(real(queries, base, k, metric))
        return seen[metric][-1]

    monkeypatch.setattr(inspect_cli, "nearest", spy)
    query = sorted(image_folder.rglob("*.jpg"))[0]
    [out] = run(config(tmp_path, "method=neighbors", f"images={image_folder}", f"image={query}",
                       "layer=relu3_1", f"output={tmp_path / 'n.png'}"))  # fmt: skip
    assert out.is_file()
    files = inspect_cli.folder_files(config(tmp_path, "method=neighbors",
                                            f"images={image_folder}"))[1]  # fmt: skip
    for metric in ("cosine", "euclidean"):
        index, dist = seen[metric][0]
        assert files[index[0, 0]] == query and dist[0, 0] < 1e-3


@pytest.mark.slow
@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_embed_images_is_deterministic(tmp_path: Path, image_folder: Path, method: str) -> None:
    args = ["method=embed", f"images={image_folder}", "layer=relu2_1", f"embed.method={method}",
            "embed.canvas=200", "embed.thumb=16"]  # fmt: skip
    [a] = run(config(tmp_path, *args, f"output={tmp_path / 'a.png'}"))
    [b] = run(config(tmp_path, *args, f"output={tmp_path / 'b.png'}"))
    assert Image.open(a).size == (200, 200)
    assert a.read_bytes() == b.read_bytes()


def test_embed_paintings_by_gram(tmp_path: Path, image_folder: Path) -> None:
    [out] = run(config(tmp_path, "method=embed", "embed.of=paintings", f"images={image_folder}",
                       "embed.gram_layers=[relu1_1,relu2_1]", "embed.method=pca",
                       "embed.canvas=200", "embed.thumb=16", f"output={tmp_path / 'e.png'}"))  # fmt: skip
    assert Image.open(out).size == (200, 200)


def test_embed_styles_of_a_multi_style_checkpoint(tmp_path: Path) -> None:
    import torch

    from stylenet.nn.transformer import TransformerNet

    net = TransformerNet(width=0.125, num_res_blocks=1, norm="conditional_instance", num_styles=4)
    ckpt = tmp_path / "multi.ckpt"
    torch.save({"state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
                "hyper_parameters": {"model": net.config, "styles": list("abcd")}}, ckpt)  # fmt: skip
    [out] = run(config(tmp_path, "method=embed", "embed.of=styles", f"model={ckpt}",
                       "embed.method=pca", "embed.canvas=200", "embed.thumb=16",
                       f"output={tmp_path / 's.png'}"))  # fmt: skip
    assert Image.open(out).size == (200, 200)
    [filters] = run(
        config(tmp_path, "method=filters", f"model={ckpt}", f"output={tmp_path / 't.png'}")
    )
    assert filters.is_file()


def test_patches_of_a_saved_chain_network(
    tmp_path: Path, image_folder: Path, saved_classifier: Path, capsys
) -> None:
    [out] = run(config(tmp_path, "method=patches", f"classifier={saved_classifier}", "layer=0",
                       f"images={image_folder}", f"output={tmp_path / 'c.png'}"))  # fmt: skip
    assert out.is_file()
    assert "receptive field 3 px (stride 1)" in capsys.readouterr().out


def test_bad_values_are_config_errors(tmp_path: Path, image_folder: Path) -> None:
    with pytest.raises(ConfigError, match="method must be one of"):
        run(config(tmp_path, "method=saliency"))
    with pytest.raises(ConfigError, match="unknown VGG layer"):
        run(config(tmp_path, "method=patches", f"images={image_folder}", "layer=relu9_9"))
    with pytest.raises(ImageError, match="folder not found"):
        run(config(tmp_path, "method=embed", f"images={tmp_path / 'nope'}"))
    with pytest.raises(ImageError, match="must be a folder"):
        run(config(tmp_path, "method=embed", f"images={next(image_folder.glob('*.png'))}"))
    with pytest.raises(ConfigError, match="unknown VGG layer"):
        run(config(tmp_path, "method=filters", "layer=conv9_1"))
    with pytest.raises(ConfigError, match="out of range"):
        run(config(tmp_path, "method=filters", "channels=[99]"))


def test_an_embed_method_that_cannot_run_fails_before_the_features(
    tmp_path: Path, image_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("features computed before the embedding method was checked")

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    monkeypatch.setattr(inspect_cli, "network_from_cfg", no_network)
    args = ["method=embed", f"images={image_folder}", f"output={tmp_path / 'e.png'}"]
    with pytest.raises(MissingExtraError, match=r"needs the training extra: .*scikit-learn"):
        run(config(tmp_path, *args, "embed.method=tsne"))
    with pytest.raises(ConfigError, match="must be one of tsne, pca, umap; got 'isomap'"):
        run(config(tmp_path, *args, "embed.method=isomap"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        (["method=magic"], "method must be one of filters"),
        (["method=patches", "images={folder}", "layer=relu7_1"], "unknown VGG layer"),
        (["method=neighbors", "images={missing}"], "folder not found"),
    ],
)
def test_command_line_errors_are_one_line(
    tmp_path: Path, image_folder: Path, overrides: list[str], words: str
) -> None:
    filled = [o.format(folder=image_folder, missing=tmp_path / "missing") for o in overrides]
    line = cli_error_line(
        "inspect", *BASE, f"cache_dir={tmp_path / 'c'}", f"hydra.run.dir={tmp_path / 'run'}",
        *filled, cwd=tmp_path,
    )  # fmt: skip
    assert line.startswith("stylenet: error: ") and words in line
