"""experiment=new_style: a single-style network trained on a multi-style backbone's
convolutions, (γ, β) first, that exports, stylizes and serves like any other checkpoint."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from fastapi.testclient import TestClient
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.serve import build as build_server
from stylenet.cli.stylize import run as stylize
from stylenet.cli.train import run
from stylenet.cli.train_options import base_path, new_style_options
from stylenet.errors import ConfigError
from stylenet.nn.checkpoint import load_transformer, network_weights, read_checkpoint
from stylenet.nn.norms import InstanceNorm
from stylenet.resources import shipped_models_dir
from tests.helpers.images import synthetic_rgb

TINY = [
    "experiment=new_style",
    "perceptual=random",
    "trainer=cpu",
    "trainer.precision=32-true",
    "data.image_size=40",
    "data.batch_size=2",
    "data.num_val=2",
    "data.num_workers=0",
    "painting.size=64",
    "progress=false",
    "heldout.root=null",
    "new_style.score_photos=2",
    "auto_style_weight.photos=2",
]


def compose_train(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3", job_name="train"):
        return compose(config_name="train", overrides=list(overrides))


@pytest.fixture
def backbone(tmp_path: Path) -> Path:
    """A tiny 3-style conditional-instance-norm checkpoint with distinct random (γ, β)."""
    from stylenet.nn.transformer import TransformerNet

    torch.manual_seed(3)
    net = TransformerNet(0.125, 1, norm="conditional_instance", num_styles=3)
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if name.endswith(("gamma", "beta")):
                parameter.uniform_(0.3, 1.7)
    path = tmp_path / "backbone.ckpt"
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "global_step": 7,
            "hyper_parameters": {
                "model": dict(net.config),
                "styles": ["wave", "udnie", "the_scream"],
                "facts": {"steps": 7},
            },
        },
        path,
    )
    return path


@pytest.fixture
def painting(tmp_path: Path) -> Path:
    path = tmp_path / "my_painting.png"
    Image.fromarray(synthetic_rgb(64, 48, seed=9)).save(path)
    return path


def train(out: Path, monkeypatch: pytest.MonkeyPatch, *overrides: str) -> Path:
    cfg = compose_train(*TINY, f"hydra.run.dir={out}", *overrides)
    monkeypatch.setattr("stylenet.cli.train.run_dir", lambda: out)
    return run(cfg)


# 4 steps: (γ, β) for 2, the whole network for 2; a checkpoint every step
FOUR_STEPS = [
    "trainer.max_steps=4",
    "new_style.full_fraction=0.5",
    "checkpoint_every=1",
    "keep_checkpoints=-1",
    "trainer.val_check_interval=2",
]


def is_norm(key: str) -> bool:
    return ".norm." in f".{key}"


def base_row(base: dict[str, torch.Tensor], key: str, style: int) -> torch.Tensor:
    """The backbone's (γ or β) row of ``style`` for the single-style weight ``key``."""
    layer, kind = key.rsplit(".norm.", 1)
    return base[f"{layer}.{'gamma' if kind == 'weight' else 'beta'}"][style]


def test_the_experiment_starts_from_the_shipped_backbone_with_a_run_wide_progress_bar() -> None:
    cfg = compose_train("experiment=new_style", "painting=custom", "painting.image=x.jpg")
    assert cfg.base == "multi_style" and cfg.painting.style_weight == "auto"
    assert cfg.progress is True
    assert cfg.callbacks.progress._target_ == "stylenet.lit.progress.RunProgressBar"
    options = new_style_options(cfg)
    assert options is not None and options.init == "nearest" and options.exclude == ()
    assert 0 < options.full_steps < options.max_steps == cfg.trainer.max_steps
    assert options.norm_steps % cfg.heldout.every == 0  # a held-out point at the switch
    assert cfg.schedule.coarse_fraction == 0.0 and cfg.heldout.every <= 100
    assert new_style_options(compose_train()) is None  # other runs are not new_style runs
    if (shipped_models_dir() / "multi_style.onnx").is_file():
        assert base_path(cfg) == shipped_models_dir() / "multi_style.onnx"


def test_a_missing_shipped_backbone_is_one_line() -> None:
    cfg = compose_train("experiment=new_style", "base=no_such_model")
    with pytest.raises(ConfigError, match="base=no_such_model: no shipped model named"):
        base_path(cfg)
    with pytest.raises(ConfigError, match="base checkpoint not found"):
        base_path(compose_train("experiment=new_style", "base=missing/last.ckpt"))


@pytest.mark.slow
def test_norms_train_first_then_the_network_and_the_result_is_a_plain_single_style_model(
    backbone: Path,
    painting: Path,
    image_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "run"
    last = train(
        out,
        monkeypatch,
        f"base={backbone}",
        f"data.root={image_folder}",
        "painting=custom",
        f"painting.image={painting}",
        "painting.name=mine",
        *FOUR_STEPS,
    )
    net, info = load_transformer(last)
    assert info.styles == ["mine"] and not net.is_multi_style
    assert net.config["norm"] == "instance" and net.config["num_styles"] == 1
    assert any(isinstance(m, InstanceNorm) for m in net.modules())
    facts = info.facts["new_style"]
    assert facts["base"] == "backbone.ckpt" and facts["base_styles"] == [
        "wave",
        "udnie",
        "the_scream",
    ]
    assert facts["norm_steps"] == 2 and facts["full_steps"] == 2
    assert facts["started_from"][0] in facts["start_scores"]
    best = min(facts["start_scores"], key=facts["start_scores"].get)
    assert facts["started_from"] == [best]
    assert "mine" in info.facts["style_weights"]  # painting=custom: the weight was measured

    base = network_weights(read_checkpoint(backbone)["state_dict"])
    step2 = network_weights(read_checkpoint(out / "checkpoints" / "step_000002.ckpt")["state_dict"])
    step4 = network_weights(read_checkpoint(last)["state_dict"])
    convs = [key for key in step2 if not is_norm(key)]
    norms = [key for key in step2 if is_norm(key)]
    assert convs and norms
    for key in convs:  # phase 1: only the norms moved
        assert torch.equal(step2[key], base[key]), key
    start = facts["base_styles"].index(best)
    started = {k: base_row(base, k, start) for k in norms}  # the nearest style's (γ, β)
    assert all(started[k].shape == step2[k].shape for k in norms)
    assert all(not torch.equal(step2[k], started[k]) for k in norms)  # phase 1 trains them
    step3 = network_weights(read_checkpoint(out / "checkpoints" / "step_000003.ckpt")["state_dict"])
    assert any(not torch.equal(step3[k], step2[k]) for k in convs)  # phase 2: the network
    verdict = facts["full_network"]  # ... kept only if it scored better than at the switch
    assert verdict["steps"] == 2 and verdict["photos"] == "2 training photos, 40 px"
    assert verdict["kept"] == (verdict["score_at_end"] < verdict["score_at_switch"])
    final = step4 if verdict["kept"] else step2
    assert all(torch.equal(step4[k], final[k]) for k in step4)

    # a normal checkpoint: it exports, stylizes and serves like any other
    from stylenet.cli.export import run as export

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        exported = tmp_path / "exported" / "mine.onnx"
        export(compose(config_name="export", overrides=[f"model={last}", f"out={exported}"]))
        assert exported.is_file()
        photo = tmp_path / "photo.png"
        Image.fromarray(synthetic_rgb(40, 52, seed=4)).save(photo)
        for model in (last, exported):
            written = stylize(
                compose(
                    config_name="stylize",
                    overrides=[f"model={model}", f"input={photo}", f"output={tmp_path / 's'}"],
                )
            )
            assert len(written) == 1 and Image.open(written[0]).size == (52, 40)
        app = build_server(compose(config_name="serve", overrides=[f"models=[{exported}]"]))
    body = io.BytesIO()
    Image.fromarray(synthetic_rgb(40, 52, seed=5)).save(body, format="PNG")
    with TestClient(app) as client:
        assert client.get("/readyz").json()["models"] == ["mine"]
        reply = client.post("/v1/stylize?model=mine&format=png", content=body.getvalue())
        assert reply.status_code == 200
        assert np.asarray(Image.open(io.BytesIO(reply.content))).shape == (40, 52, 3)


@pytest.mark.slow
def test_mean_init_excludes_styles_and_norms_only_leaves_the_convolutions(
    backbone: Path, painting: Path, image_folder: Path, tmp_path: Path, monkeypatch
) -> None:
    last = train(
        tmp_path / "run",
        monkeypatch,
        f"base={backbone}",
        f"data.root={image_folder}",
        "painting=wave",
        f"painting.image={painting}",
        "new_style.init=mean",
        "new_style.exclude=[wave]",
        "new_style.full_fraction=0",
        "trainer.max_steps=1",
        "trainer.val_check_interval=1",
    )
    facts = load_transformer(last)[1].facts["new_style"]
    assert facts["started_from"] == ["udnie", "the_scream"] and "start_scores" not in facts
    base = network_weights(read_checkpoint(backbone)["state_dict"])
    trained = network_weights(read_checkpoint(last)["state_dict"])
    for key, value in trained.items():
        if not is_norm(key):
            assert torch.equal(value, base[key]), key


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (["new_style.init=monet"], "new_style.init must be mean, nearest or a style"),
        (["new_style.exclude=[monet]"], "new_style.exclude names monet"),
        (["new_style.exclude=[wave,udnie,the_scream]"], "leaves no style"),
        (["new_style.init=udnie", "new_style.exclude=[udnie]"], "is in new_style.exclude"),
        (["new_style.full_fraction=1.5"], "full_fraction must be in \\[0, 1\\]"),
        (["new_style.norm_lr=0"], "new_style.norm_lr must be > 0"),
        (["styles=[wave,udnie]"], "trains one painting"),
    ],
)
def test_bad_options_are_one_line_errors(
    overrides: list[str],
    message: str,
    backbone: Path,
    painting: Path,
    image_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with pytest.raises(ConfigError, match=message):
        train(
            tmp_path / "run",
            monkeypatch,
            f"base={backbone}",
            f"data.root={image_folder}",
            "painting=custom",
            f"painting.image={painting}",
            "trainer.max_steps=2",
            *overrides,
        )


@pytest.mark.slow
def test_a_run_resumed_in_its_whole_network_steps_ends_as_the_uninterrupted_one(
    backbone: Path, painting: Path, image_folder: Path, tmp_path: Path, monkeypatch
) -> None:
    args = [
        f"base={backbone}",
        f"data.root={image_folder}",
        "painting=custom",
        f"painting.image={painting}",
        *FOUR_STEPS,
    ]
    whole = train(tmp_path / "whole", monkeypatch, *args)
    cut = tmp_path / "whole" / "checkpoints" / "step_000003.ckpt"  # the gate holds its copy
    assert read_checkpoint(cut)["callbacks"]["FinetuneGate"]["weights"]
    assert not read_checkpoint(whole)["callbacks"]["FinetuneGate"]["weights"]
    resumed = train(tmp_path / "resumed", monkeypatch, *args, f"resume={cut}")
    first, second = read_checkpoint(whole), read_checkpoint(resumed)
    for key, value in first["state_dict"].items():
        assert torch.equal(value, second["state_dict"][key]), key
    facts = [c["hyper_parameters"]["facts"]["new_style"] for c in (first, second)]
    assert facts[0]["full_network"] == facts[1]["full_network"]
