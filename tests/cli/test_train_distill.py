"""experiment=distill: a cheaper student network trained after a trained single-style teacher,
whose checkpoint exports and stylizes like any other."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from PIL import Image

from stylenet.cli.config import config_dir
from stylenet.cli.stylize import run as stylize
from stylenet.cli.train import run
from stylenet.cli.train_options import distill_options
from stylenet.errors import ConfigError
from stylenet.nn.checkpoint import (
    load_transformer,
    network_weights,
    read_checkpoint,
    weights_checksum,
)
from stylenet.nn.transformer import TransformerNet
from tests.helpers.images import synthetic_rgb

TINY = [
    "experiment=distill",
    "perceptual=random",
    "net=tiny",
    "net.outer_kernel=3",
    "trainer=cpu",
    "trainer.precision=32-true",
    "trainer.max_steps=3",
    "trainer.val_check_interval=3",
    "checkpoint_every=1",
    "keep_checkpoints=-1",
    "data.image_size=64",
    "schedule.coarse_fraction=0.0",
    "data.batch_size=2",
    "data.num_val=2",
    "data.num_workers=0",
    "painting=custom",
    "painting.size=64",
    "painting.name=mine",
    "painting.style_weight=1.0",
    "progress=false",
    "heldout.root=null",
]


def compose_train(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3", job_name="train"):
        return compose(config_name="train", overrides=list(overrides))


@pytest.fixture
def teacher(tmp_path: Path) -> Path:
    """A tiny single-style checkpoint of the style ``mine``."""
    torch.manual_seed(5)
    net = TransformerNet(0.125, 1)
    path = tmp_path / "teacher.ckpt"
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "global_step": 9,
            "hyper_parameters": {
                "model": dict(net.config),
                "styles": ["mine"],
                "facts": {"steps": 9},
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


def run_args(teacher: Path, painting: Path, photos: Path) -> list[str]:
    """Overrides of a tiny distillation after ``teacher`` on ``photos``."""
    return [f"distill.teacher={teacher}", f"data.root={photos}", f"painting.image={painting}"]


def test_the_experiment_distils_into_the_lean_network() -> None:
    cfg = compose_train("experiment=distill", "painting=wave")
    assert cfg.net.width == 0.375 and cfg.net.num_res_blocks == 3 and cfg.net.outer_kernel == 3
    assert cfg.distill.teacher == "training/wave/checkpoints/last.ckpt"
    assert 0 < cfg.distill.teacher_share <= 1 and cfg.distill.pixel_weight > 0
    assert distill_options(compose_train()) is None  # other runs are not distillations


def test_a_student_trains_after_its_teacher_and_exports(
    teacher: Path,
    painting: Path,
    image_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    out = tmp_path / "run"
    args = run_args(teacher, painting, image_folder)
    last = train(out, monkeypatch, *args)
    net, info = load_transformer(last)
    assert info.styles == ["mine"] and net.config["outer_kernel"] == 3
    facts = info.facts["distillation"]
    assert facts["teacher"] == str(teacher) and facts["teacher_steps"] == 9
    assert facts["teacher_model"]["outer_kernel"] == 9
    state = read_checkpoint(last)["state_dict"]
    first = network_weights(read_checkpoint(out / "checkpoints" / "step_000001.ckpt")["state_dict"])
    assert any(not torch.equal(first[k], v) for k, v in network_weights(state).items())
    assert not any(key.startswith("teacher.") for key in state)  # loaded from its own file
    original = network_weights(read_checkpoint(teacher)["state_dict"])
    assert read_checkpoint(last)["distill_teacher_sha256"] == weights_checksum(original)

    from stylenet.cli.export import run as export

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        exported = tmp_path / "exported" / "mine.onnx"
        export(compose(config_name="export", overrides=[f"model={last}", f"out={exported}"]))
        photo = tmp_path / "photo.png"
        Image.fromarray(synthetic_rgb(40, 52, seed=4)).save(photo)
        written = stylize(
            compose(
                config_name="stylize",
                overrides=[f"model={exported}", f"input={photo}", f"output={tmp_path / 's.png'}"],
            )
        )
        assert written and Image.open(written[0]).size == (52, 40)


def test_a_teacher_of_another_painting_is_one_line(teacher: Path, painting: Path) -> None:
    from stylenet.cli.train_module import build_module

    cfg = compose_train(
        *TINY, f"distill.teacher={teacher}", "painting.name=other", f"painting.image={painting}"
    )
    with pytest.raises(ConfigError, match="trained on mine, not painting=other"):
        build_module(cfg, Path("unused"))


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("distill.teacher=missing/last.ckpt", "distill.teacher checkpoint not found"),
        ("distill.teacher=null", "distill.teacher is not set"),
        ("distill.teacher_share=2", "teacher_share must be in"),
        ("distill.pixel_weight=-1", "pixel_weight must be >= 0"),
        ("base=multi_style", "leave out base="),
    ],
)
def test_bad_distill_options_are_one_line(teacher: Path, override: str, message: str) -> None:
    cfg = compose_train("experiment=distill", f"distill.teacher={teacher}", override)
    with pytest.raises(ConfigError, match=message):
        distill_options(cfg)


def saved_student(path: Path, net: TransformerNet, steps: int = 4) -> Path:
    """``net`` as a single-style checkpoint of the style ``mine``."""
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "global_step": steps,
            "hyper_parameters": {"model": dict(net.config), "styles": ["mine"], "facts": {}},
        },
        path,
    )
    return path


def warm_config(teacher: Path, start: Path, painting: Path):
    """The tiny run's config for ``experiment=distill_warm`` from ``start``."""
    return compose_train(
        *TINY,
        "experiment=distill_warm",
        f"distill.teacher={teacher}",
        f"distill.init={start}",
        f"painting.image={painting}",
    )


def test_a_warm_student_starts_from_the_given_weights(
    teacher: Path, painting: Path, tmp_path: Path
) -> None:
    from stylenet.cli.train_module import build_module

    torch.manual_seed(11)
    start = saved_student(tmp_path / "student.ckpt", TransformerNet(0.125, 1, outer_kernel=3))
    module = build_module(warm_config(teacher, start, painting), tmp_path / "run")
    original = network_weights(read_checkpoint(start)["state_dict"])
    assert all(torch.equal(module.net.state_dict()[k], v) for k, v in original.items())
    assert module.teacher_share == 0.0
    assert module.hparams["facts"]["distillation"]["init"] == {
        "file": str(start),
        "styles": ["mine"],
        "steps": 4,
        "weights_sha256": None,
    }
    cold = build_module(
        compose_train(*TINY, f"distill.teacher={teacher}", f"painting.image={painting}"),
        tmp_path / "run",
    )
    assert any(not torch.equal(cold.net.state_dict()[k], v) for k, v in original.items())
    assert "init" not in cold.hparams["facts"]["distillation"]


def test_a_warm_start_of_another_network_is_one_line(
    teacher: Path, painting: Path, tmp_path: Path
) -> None:
    from stylenet.cli.train_module import build_module

    start = saved_student(tmp_path / "student.ckpt", TransformerNet(0.25, 1, outer_kernel=3))
    cfg = warm_config(teacher, start, painting)
    with pytest.raises(
        ConfigError, match=r"distill.init=student.ckpt is a network with .*width=0.25"
    ):
        build_module(cfg, tmp_path / "run")


def test_the_warm_experiment_needs_its_start(teacher: Path) -> None:
    cfg = compose_train("experiment=distill_warm", f"distill.teacher={teacher}")
    with pytest.raises(ConfigError, match=r"distill\.init is not set"):
        distill_options(cfg)


def test_a_resumed_distillation_is_exact_and_keeps_its_teacher(
    teacher: Path,
    painting: Path,
    image_folder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = run_args(teacher, painting, image_folder)
    straight = train(tmp_path / "straight", monkeypatch, *args)
    step = tmp_path / "straight" / "checkpoints" / "step_000001.ckpt"
    resumed = train(tmp_path / "resumed", monkeypatch, *args, f"resume={step}")
    a, b = (network_weights(read_checkpoint(path)["state_dict"]) for path in (straight, resumed))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)

    torch.manual_seed(6)  # another teacher of the same style
    other = tmp_path / "other_teacher.ckpt"
    checkpoint = read_checkpoint(teacher)
    checkpoint["state_dict"] = {
        f"net.{k}": v for k, v in TransformerNet(0.125, 1).state_dict().items()
    }
    torch.save(checkpoint, other)
    args[0] = f"distill.teacher={other}"
    with pytest.raises(ConfigError, match="other weights than the teacher this run started with"):
        train(tmp_path / "changed", monkeypatch, *args, f"resume={step}")
