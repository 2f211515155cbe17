"""Every config of ``conf/`` composes with Hydra's compose API, and what can be built on a CPU
is built: every primary config, every file of every group (experiments, trainers, nets,
paintings, loggers, callbacks, perceptual losses, data, paths)."""

from __future__ import annotations

import inspect
from pathlib import Path

import lightning as L
import pytest
import torch
from hydra import compose, initialize_config_dir
from lightning.pytorch.callbacks import (
    LearningRateMonitor,
    ModelCheckpoint,
    OnExceptionCheckpoint,
    TQDMProgressBar,
)
from lightning.pytorch.loggers import CSVLogger
from omegaconf import DictConfig, OmegaConf
from PIL import Image

from stylenet.cli.config import build, check_targets, config_dir
from stylenet.cli.help import COMMANDS
from stylenet.cli.train_callbacks import build_callbacks, build_loggers
from stylenet.cli.train_trainer import build_trainer
from stylenet.errors import ConfigError
from stylenet.lit.datamodule import PhotoDataModule
from stylenet.nn.transformer import TransformerNet
from stylenet.nn.vgg import layer_names
from stylenet.nn.vgg_weights import VGGWeights
from tests.helpers.images import synthetic_rgb
from tests.helpers.training import smoke_config, train

CONF = Path(config_dir())
GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir())
TRAIN_GROUPS = {"paths", "net", "perceptual", "data", "painting", "trainer", "logger", "callbacks"}


def options(group: str) -> list[str]:
    return sorted(p.stem for p in (CONF / group).glob("*.yaml"))


def compose_config(name: str, *overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3", job_name=name):
        return compose(config_name=name, overrides=list(overrides))


def train_config(*overrides: str) -> DictConfig:
    return compose_config("train", *overrides)


def test_one_root_holds_every_commands_config_and_every_group() -> None:
    primaries = sorted(p.stem for p in CONF.glob("*.yaml"))
    assert primaries == sorted(COMMANDS)
    assert sorted([*TRAIN_GROUPS, "experiment"]) == GROUPS
    for old in ("train", "serve", "model", "style"):  # the old roots and the renamed groups
        assert not (CONF / old).is_dir(), old


@pytest.mark.parametrize("command", COMMANDS)
def test_every_primary_config_composes_with_only_its_own_groups(command: str) -> None:
    cfg = compose_config(command)
    check_targets(cfg)
    groups = set(cfg) & set(GROUPS)
    if command == "train":
        assert groups == TRAIN_GROUPS
    elif command in ("gatys", "invert"):
        assert groups == {"perceptual"}
    else:
        assert not groups, f"{command} picked up the groups {groups}"


@pytest.mark.parametrize("command", ["stylize", "webcam", "export", "inspect"])
def test_model_and_style_stay_plain_options_of_the_serving_commands(command: str) -> None:
    cfg = compose_config(command, "model=wave.onnx")
    assert cfg.model == "wave.onnx"
    if "style" in cfg:
        assert compose_config(command, "model=m.onnx", "style=wave").style == "wave"


@pytest.mark.slow
@pytest.mark.parametrize("name", options("net"))
def test_each_net_builds_a_network_that_runs(name: str) -> None:
    cfg = train_config(f"net={name}")
    net = build(cfg.net)
    assert isinstance(net, TransformerNet)
    with torch.no_grad():
        assert net(torch.rand(1, 3, 32, 40)).shape == (1, 3, 32, 40)
    multi = build(cfg.net, norm="conditional_instance", num_styles=3)
    assert multi.num_styles == 3
    single = compose_config(f"net/{name}").net  # a group file on its own (scripts/bench_infer.py)
    assert OmegaConf.to_container(single) == OmegaConf.to_container(cfg.net)


def test_the_nets_are_the_documented_sizes() -> None:
    widths = {name: train_config(f"net={name}").net.width for name in options("net")}
    assert widths == {
        "johnson": 1.0,
        "johnson_fast": 0.25,
        "johnson_lean": 0.375,
        "johnson_small": 0.5,
        "tiny": 0.125,
    }
    assert train_config().net.width == 0.5  # johnson_small: the shipped models' network


@pytest.mark.parametrize("name", options("painting"))
def test_each_painting_names_its_own_picture(name: str) -> None:
    cfg = train_config(f"painting={name}")
    painting = cfg.painting
    assert painting.name == name
    if name == "custom":  # any picture: painting.image=PATH, its weight measured at the start
        assert painting.image is None and painting.style_weight == "auto"
        return
    image = Path(painting.image)
    assert image.parent == Path(cfg.paths.styles) and image.suffix == ".jpg"
    assert painting.size == 512
    assert painting.style_weight is None or painting.style_weight > 0
    if image.parent.is_dir():  # the shared data is there: the picture must be too
        assert image.is_file(), image
    with initialize_config_dir(config_dir=str(CONF), version_base="1.3", job_name="train"):
        run = compose("train", [f"painting={name}"], return_hydra_config=True).hydra.run.dir
    assert run.startswith(f"outputs/train/{name}/")


@pytest.mark.parametrize("name", options("perceptual"))
def test_each_perceptual_loss_names_real_layers(name: str) -> None:
    for command in ("train", "gatys", "invert"):
        cfg = compose_config(command, f"perceptual={name}")
        assert cfg.perceptual._target_ == "stylenet.losses.PerceptualLoss"
    node = train_config(f"perceptual={name}").perceptual
    known = layer_names(VGGWeights.parse(str(node.weights)).arch)
    assert set(node.content_layers) <= set(known) and set(node.style_layers) <= set(known)
    assert node.pooling in ("max", "avg")
    assert min(node.content_weight, node.style_weight, node.tv_weight) >= 0


def test_the_random_perceptual_loss_builds_offline() -> None:
    loss = build(train_config("perceptual=random").perceptual, _convert_="all")
    assert (loss.content_weight, loss.style_weight) == (1.0, 1.0e4)


@pytest.mark.parametrize("name", options("trainer"))
def test_each_trainer_takes_only_lightning_trainer_arguments(name: str) -> None:
    node = OmegaConf.to_container(train_config(f"trainer={name}").trainer, resolve=True)
    assert isinstance(node, dict) and node.pop("_target_") == "lightning.Trainer"
    accepted = set(inspect.signature(L.Trainer.__init__).parameters) - {"self"}
    assert set(node) <= accepted, set(node) - accepted
    assert node["use_distributed_sampler"] is False  # the datamodule splits each step itself


def test_the_trainers_resolve_to_their_devices() -> None:
    """gpu and ddp: the resolved values only (building them would start CUDA)."""
    gpu = train_config("trainer=gpu").trainer
    assert (gpu.accelerator, gpu.devices, gpu.precision) == ("gpu", 1, "auto")
    ddp = train_config("trainer=ddp").trainer
    assert (ddp.accelerator, ddp.devices, ddp.strategy, ddp.num_nodes) == ("gpu", "auto", "ddp", 1)
    assert ddp.max_steps == gpu.max_steps == train_config().trainer.max_steps
    ddp_cpu = train_config("trainer=ddp_cpu").trainer
    assert (ddp_cpu.accelerator, ddp_cpu.devices) == ("cpu", 2)
    strategy = build(ddp_cpu.strategy)
    assert strategy.process_group_backend == "gloo"
    assert strategy._timeout.total_seconds() == 120
    debug = train_config("trainer=debug").trainer
    assert (debug.max_steps, debug.precision, debug.detect_anomaly) == (4, "32-true", True)


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    root = tmp_path / "photos"
    root.mkdir()
    for i in range(4):
        Image.fromarray(synthetic_rgb(48, 48, seed=i)).save(root / f"p{i}.png")
    return root


@pytest.mark.parametrize("name", ["cpu", "debug"])
def test_the_cpu_trainers_build_with_the_default_callbacks_and_logger(
    name: str, photos: Path, tmp_path: Path
) -> None:
    cfg = train_config(f"trainer={name}", f"data.root={photos}", "heldout.root=null")
    trainer = build_trainer(cfg, tmp_path / "run")
    assert isinstance(trainer, L.Trainer) and trainer.max_steps == cfg.trainer.max_steps
    kinds = [type(c) for c in trainer.callbacks]
    assert ModelCheckpoint in kinds and OnExceptionCheckpoint in kinds
    assert TQDMProgressBar in kinds
    assert isinstance(trainer.logger, CSVLogger)
    assert Path(trainer.logger.log_dir) == tmp_path / "run" / "logs"


def test_the_data_and_paths_groups_build(photos: Path) -> None:
    cfg = train_config(f"data.root={photos}", "seed=5")
    datamodule = build(cfg.data)
    assert isinstance(datamodule, PhotoDataModule)
    assert cfg.data.seed == 5 and cfg.data.image_size == 256
    assert train_config().data.root == train_config().paths.photos
    assert options("paths") == ["default"] and options("data") == ["photos"]


def test_the_default_callbacks_match_the_checkpoint_options(tmp_path: Path) -> None:
    cfg = train_config("checkpoint_every=7", "keep_checkpoints=2")
    callbacks = build_callbacks(cfg, tmp_path)
    checkpoint, on_exception, progress = callbacks
    assert isinstance(checkpoint, ModelCheckpoint)
    assert checkpoint.dirpath == str(tmp_path / "checkpoints")
    assert (checkpoint._every_n_train_steps, checkpoint.save_top_k) == (7, 2)
    assert checkpoint.save_last is True and checkpoint.filename == "step_{step:06d}"
    assert isinstance(on_exception, OnExceptionCheckpoint)
    assert on_exception.ckpt_path == str(tmp_path / "checkpoints" / "interrupted.ckpt")
    assert isinstance(progress, TQDMProgressBar)
    quiet = build_callbacks(train_config("progress=false"), tmp_path)
    assert [type(c) for c in quiet] == [ModelCheckpoint, OnExceptionCheckpoint]


@pytest.mark.parametrize("name", options("callbacks"))
def test_each_callbacks_file_builds(name: str, tmp_path: Path) -> None:
    callbacks = build_callbacks(train_config(f"callbacks={name}"), tmp_path)
    kinds = {type(c) for c in callbacks}
    assert {ModelCheckpoint, OnExceptionCheckpoint, TQDMProgressBar} <= kinds
    assert (LearningRateMonitor in kinds) == (name == "lr_monitor")


def test_a_callback_without_a_target_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"callbacks\.extra has no _target_"):
        build_callbacks(train_config("+callbacks.extra.every=3"), tmp_path)
    with pytest.raises(ConfigError, match="refusing _target_"):
        build_callbacks(train_config("+callbacks.extra._target_=os.system"), tmp_path)


@pytest.mark.parametrize("name", options("logger"))
def test_each_logger_builds_or_says_what_it_needs(name: str, tmp_path: Path) -> None:
    cfg = train_config(f"logger={name}")
    if name == "tensorboard":
        try:
            import tensorboard  # noqa: F401
        except ModuleNotFoundError:
            with pytest.raises(ConfigError, match="pip install tensorboard"):
                build_loggers(cfg, tmp_path)
            return
    loggers = build_loggers(cfg, tmp_path)
    assert [type(x).__name__ for x in loggers] == {
        "csv": ["CSVLogger"],
        "tensorboard": ["TensorBoardLogger"],
        "none": [],
    }[name]
    for logger in loggers:
        assert Path(logger.log_dir) == tmp_path / "logs"


@pytest.mark.parametrize("name", options("experiment"))
def test_each_experiment_composes_and_builds_its_network(name: str) -> None:
    cfg = train_config(f"experiment={name}")
    check_targets(cfg)
    net = build(cfg.net)
    assert isinstance(net, TransformerNet)
    assert cfg.trainer.max_steps >= 1 and cfg.checkpoint_every >= 1
    if cfg.get("styles"):
        assert set(cfg.styles) <= set(options("painting"))


@pytest.mark.slow
def test_the_experiments_recipes() -> None:
    assert train_config("experiment=smoke").net.width == 0.125
    assert train_config("experiment=smoke").painting.size == 128
    assert train_config("experiment=smoke").schedule.coarse_fraction == 0.0  # one scale
    ship = train_config("experiment=ship")
    assert ship.net.width == 0.5
    # coarse-to-fine: three quarters of the steps at half size, the compute of 2000 full steps
    assert (ship.schedule.coarse_fraction, ship.trainer.max_steps) == (0.75, 4800)
    fast = train_config("experiment=ship_fast")
    assert (fast.net.width, fast.trainer.max_steps) == (0.25, 4800)
    multi = train_config("experiment=ship_multi")
    assert len(multi.styles) == 7 and multi.trainer.max_steps == 19200
    add = compose_config("train", "experiment=add_style", "painting=udnie")
    assert (add.lr, add.trainer.max_steps) == (1.0e-2, 1000)  # base= is checked at the start
    assert add.schedule.coarse_fraction == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("logger", ["none", "csv"])
def test_a_run_trains_with_its_logger_choice(
    logger: str, photos: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    painting = tmp_path / "painting.png"
    Image.fromarray(synthetic_rgb(64, 64, seed=9)).save(painting)
    out = tmp_path / "run"
    cfg = smoke_config(photos, painting, None, f"logger={logger}", "data.num_val=1")
    last = train(cfg, out, monkeypatch)
    assert last.is_file() and (out / "checkpoints" / "step_000002.ckpt").is_file()
    assert (out / "logs" / "metrics.csv").is_file() == (logger == "csv")
