"""Build the training objects (styles, loss, network, data, trainer) from ``conf/train.yaml``."""

from __future__ import annotations

import logging
import platform
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from lightning.pytorch.callbacks import Callback, ModelCheckpoint, OnExceptionCheckpoint
from lightning.pytorch.loggers import CSVLogger, Logger
from omegaconf import DictConfig, ListConfig, OmegaConf

from stylenet.cli.train_heldout import heldout_callbacks
from stylenet.config import build, require_positive, train_config_dir
from stylenet.data.images import read_image
from stylenet.data.photos import list_photos
from stylenet.devices import resolve_precision
from stylenet.errors import ConfigError
from stylenet.lit.datamodule import PhotoDataModule
from stylenet.lit.schedule import TrainingSchedule
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.checkpoint import (
    check_resumable,
    load_transformer,
    read_checkpoint,
    verify_checkpoint,
)
from stylenet.nn.extend import add_styles, train_only_styles
from stylenet.nn.transformer import MIN_SIDE, TransformerNet

log = logging.getLogger(__name__)


@dataclass
class StyleSpec:
    """One training style: its name, painting, size for Gram targets and loss scale."""

    name: str
    image: str
    size: int
    scale: float = 1.0


def style_specs(cfg: DictConfig) -> list[StyleSpec]:
    """The styles to train: ``styles=[a,b,…]`` (names in conf/train/style/) or the one ``style``."""
    names = cfg.get("styles")
    if not names:
        return [_spec(cfg.style, cfg.perceptual.style_weight)]
    if not isinstance(names, (ListConfig, list)):
        raise ConfigError(f"styles must be a list of style names, got {names!r}")
    return [_spec(load_style_config(str(name), cfg), cfg.perceptual.style_weight) for name in names]


def load_style_config(name: str, cfg: DictConfig) -> DictConfig:
    """``conf/train/style/<name>.yaml`` resolved against ``cfg.paths``."""
    file = Path(train_config_dir()) / "style" / f"{name}.yaml"
    if not file.is_file():
        known = sorted(p.stem for p in file.parent.glob("*.yaml"))
        raise ConfigError(f"unknown style {name!r}; choose from {', '.join(known)}")
    merged = OmegaConf.merge({"paths": cfg.paths, "style": OmegaConf.load(file)})
    return merged.style


def _spec(style: DictConfig, default_weight: float) -> StyleSpec:
    if not style.get("image"):
        raise ConfigError("style.image is not set; give style.image=PATH of a painting")
    size = int(require_positive("style.size", style.get("size", 512), allow_zero=False))
    weight = style.get("style_weight")
    scale = 1.0
    if weight is not None and float(default_weight) > 0:
        scale = require_positive("style.style_weight", weight) / float(default_weight)
    return StyleSpec(str(style.name), str(style.image), size, scale)


def experiment_choice() -> str | None:
    """The ``experiment=`` group option of the running Hydra app (None outside one).

    ``experiment=add_style`` sets ``base: ???``, but merging a missing value keeps
    ``train.yaml``'s ``base: null``, so the choice itself is what tells a base is required.
    """
    if not HydraConfig.initialized():
        return None
    choice = HydraConfig.get().runtime.choices.get("experiment")
    return None if choice is None else str(choice)


def validate_train_config(cfg: DictConfig) -> None:
    """Check values Lightning would only trip over later (one-line ConfigError each)."""
    if int(cfg.data.image_size) < MIN_SIDE:
        raise ConfigError(f"data.image_size must be >= {MIN_SIDE}, got {cfg.data.image_size}")
    if int(cfg.trainer.max_steps) < 1:
        raise ConfigError(f"trainer.max_steps must be >= 1, got {cfg.trainer.max_steps}")
    if int(cfg.checkpoint_every) < 1:
        raise ConfigError(f"checkpoint_every must be >= 1, got {cfg.checkpoint_every}")
    if int(cfg.trainer.get("accumulate_grad_batches", 1)) != 1:
        raise ConfigError(
            "trainer.accumulate_grad_batches must be 1: each step trains on one batch of "
            "data.batch_size photos per device (raise data.batch_size or trainer.devices instead)"
        )
    require_positive("lr", cfg.lr, allow_zero=False)
    schedule = training_schedule(cfg)
    coarse_side = round(int(cfg.data.image_size) * schedule.coarse_scale)
    if schedule.coarse_steps and coarse_side < MIN_SIDE:
        raise ConfigError(
            f"schedule.coarse_scale {schedule.coarse_scale} makes {coarse_side} px photos of "
            f"data.image_size={cfg.data.image_size}; they must be >= {MIN_SIDE} px"
        )
    for name in ("content_weight", "style_weight", "tv_weight"):
        require_positive(f"perceptual.{name}", cfg.perceptual[name])
    if cfg.logger not in ("csv", "tensorboard"):
        raise ConfigError(f"logger must be csv or tensorboard, got {cfg.logger!r}")
    if experiment_choice() == "add_style" and not cfg.get("base"):
        raise ConfigError(
            "base= is required: experiment=add_style adds styles to a trained network; give "
            "base=PATH of its checkpoint (e.g. <run>/checkpoints/last.ckpt)"
        )
    for key in ("resume", "base"):
        path = cfg.get(key)
        if path is not None and not Path(str(path)).is_file():
            raise ConfigError(f"{key} checkpoint not found: {path} (give a .ckpt path)")
    list_photos(Path(str(cfg.data.root)).expanduser())
    specs = style_specs(cfg)
    if cfg.get("base"):
        verify_checkpoint(str(cfg.base))
    if cfg.get("resume"):
        model = OmegaConf.to_container(cfg.model, resolve=True)
        names = None if cfg.get("base") else [spec.name for spec in specs]
        check_resumable(str(cfg.resume), model, names)


def build_loss(cfg: DictConfig, specs: list[StyleSpec]) -> PerceptualLoss:
    """The perceptual loss with every style's Gram targets computed once."""
    loss: PerceptualLoss = build(cfg.perceptual, _convert_="all")
    images = [read_image(spec.image, max_side=spec.size) for spec in specs]
    loss.set_styles(images, [spec.scale for spec in specs])
    return loss


def build_net(cfg: DictConfig, num_styles: int) -> TransformerNet:
    """The transformer; conditional instance norm when there are several styles."""
    if num_styles > 1:
        return build(cfg.model, norm="conditional_instance", num_styles=num_styles)
    return build(cfg.model)


def training_facts(cfg: DictConfig, specs: list[StyleSpec]) -> dict[str, Any]:
    """What a model card should say about how the network was trained."""
    return {
        "style_images": {spec.name: Path(spec.image).name for spec in specs},
        "image_size": int(cfg.data.image_size),
        "batch_size": int(cfg.data.batch_size),
        "content_weight": float(cfg.perceptual.content_weight),
        "style_weight": float(cfg.perceptual.style_weight),
        "style_weights": {
            spec.name: float(cfg.perceptual.style_weight) * spec.scale for spec in specs
        },
        "tv_weight": float(cfg.perceptual.tv_weight),
        "loss_network": str(cfg.perceptual.weights),
        "precision": training_precision(cfg)[0],
        "lr": float(cfg.lr),
        "schedule": dict(OmegaConf.to_container(cfg.schedule)) if cfg.get("schedule") else {},
        "seed": int(cfg.seed),
        "machine": machine_description(str(cfg.trainer.accelerator)),
    }


def training_precision(cfg: DictConfig) -> tuple[str, str]:
    """``trainer.precision`` for Lightning and why: ``auto`` resolved for this machine
    (:func:`stylenet.devices.resolve_precision`: bf16 only where native, else fp32)."""
    return resolve_precision(str(cfg.trainer.precision), str(cfg.trainer.accelerator))


def machine_description(accelerator: str) -> str:
    """``AMD EPYC, 2 CPU threads`` or ``2× NVIDIA A100`` (for model cards)."""
    if accelerator != "cpu" and torch.cuda.is_available():  # untested here: no GPU
        count = torch.cuda.device_count()
        return f"{count}× {torch.cuda.get_device_name(0)}"
    if accelerator != "cpu":
        return accelerator
    cpu = platform.processor()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        names = [
            line.split(":", 1)[1].strip()
            for line in cpuinfo.read_text().splitlines()
            if line.startswith("model name")
        ]
        cpu = names[0] if names else cpu
    return f"{cpu + ', ' if cpu else ''}{torch.get_num_threads()} CPU threads"


def build_module(cfg: DictConfig, output: Path) -> StyleTransferModule:
    """The LightningModule for ``cfg``'s style(s), or for adding them to ``cfg.base``."""
    specs = style_specs(cfg)
    if cfg.get("base"):
        return build_add_style_module(cfg, specs, output)
    return StyleTransferModule(
        build_net(cfg, len(specs)),
        build_loss(cfg, specs),
        styles=[spec.name for spec in specs],
        lr=float(cfg.lr),
        facts=training_facts(cfg, specs),
        channels_last=bool(cfg.channels_last),
        val_dir=output / "val",
        seed=int(cfg.seed),
        schedule=training_schedule(cfg),
    )


def training_schedule(cfg: DictConfig) -> TrainingSchedule:
    """``cfg.schedule`` over ``trainer.max_steps`` (a bad value is one config error line)."""
    node = cfg.get("schedule") or {}
    try:
        return TrainingSchedule(
            total_steps=int(cfg.trainer.max_steps),
            lr=str(node.get("lr", "constant")),
            lr_min=float(node.get("lr_min", 0.0)),
            coarse_fraction=float(node.get("coarse_fraction", 0.0)),
            coarse_scale=float(node.get("coarse_scale", 0.5)),
        )
    except ValueError as error:
        raise ConfigError(str(error)) from error


def build_add_style_module(
    cfg: DictConfig, specs: list[StyleSpec], output: Path
) -> StyleTransferModule:
    """Train only new styles' (γ, β) on top of the trained network ``cfg.base``."""
    base, info = load_transformer(str(cfg.base))
    clash = [spec.name for spec in specs if spec.name in info.styles]
    if clash:
        raise ConfigError(
            f"{cfg.base} already has style(s) {', '.join(clash)}; name the new one differently "
            "(style.name=...)"
        )
    net = add_styles(base, len(specs))
    new_styles = list(range(len(info.styles), net.num_styles))
    train_only_styles(net, new_styles)
    facts = dict(info.facts, **training_facts(cfg, specs))
    facts["style_images"] = {**info.facts.get("style_images", {}), **facts["style_images"]}
    facts["added_styles"] = [spec.name for spec in specs]
    facts["base_checkpoint"] = Path(str(cfg.base)).name
    return StyleTransferModule(
        net,
        build_loss(cfg, specs),
        styles=[*info.styles, *(spec.name for spec in specs)],
        lr=float(cfg.lr),
        facts=facts,
        channels_last=bool(cfg.channels_last),
        val_dir=output / "val",
        train_styles=new_styles,
        seed=int(cfg.seed),
        schedule=training_schedule(cfg),
    )


def build_datamodule(cfg: DictConfig) -> PhotoDataModule:
    return build(cfg.data)


def build_logger(cfg: DictConfig, output: Path) -> Logger:
    """CSV (default) or TensorBoard logs under ``output/logs``.

    Lightning's CSV logger replaces an existing ``metrics.csv``, so a resumed run logs to
    ``logs/from_step_NNNNNN/metrics.csv`` and the earlier segments stay (where segments
    overlap, the later one holds the steps that count: they were trained again after resume).
    """
    if cfg.logger == "tensorboard":
        from lightning.pytorch.loggers import TensorBoardLogger

        try:
            return TensorBoardLogger(save_dir=str(output), name="logs", version="")
        except ModuleNotFoundError as error:
            raise ConfigError(
                "logger=tensorboard needs TensorBoard: pip install tensorboard (or use logger=csv)"
            ) from error
    start = resumed_step(cfg)
    return CSVLogger(
        save_dir=str(output), name="logs", version=f"from_step_{start:06d}" if start else ""
    )


def resumed_step(cfg: DictConfig) -> int:
    """The global step training resumes from (0 for a fresh run)."""
    if not cfg.get("resume"):
        return 0
    return int(read_checkpoint(str(cfg.resume)).get("global_step", 0))


LIGHTNING_NOISE = (
    r".*module\(s\) in eval mode.*",  # the frozen VGG stays in eval mode on purpose
    r".*was called without a model.*",
    r".*there is no last checkpoint available.*",
    r".*smaller than the logging interval.*",
    r".*LeafSpec.*",
    # the photo stream follows global_step (stylenet.data.photos), so any resume is exact
    r".*your dataloader is not resumable.*",
)


def silence_lightning_noise() -> None:
    """Hide Lightning warnings that do not apply to style training, and its info banners
    (accelerator, tips), which would otherwise surround error lines."""
    for name in ("utilities.rank_zero", "trainer.connectors.checkpoint_connector"):
        logging.getLogger(f"lightning.pytorch.{name}").setLevel(logging.WARNING)
    for pattern in LIGHTNING_NOISE:
        warnings.filterwarnings("ignore", message=pattern)


def build_trainer(
    cfg: DictConfig, output: Path, *, extra_callbacks: list[Callback] | None = None
) -> L.Trainer:
    """Lightning Trainer with periodic + last checkpoints, a crash checkpoint and a logger."""
    folder = output / "checkpoints"
    periodic = ModelCheckpoint(
        dirpath=folder,
        filename="step_{step:06d}",
        auto_insert_metric_name=False,
        every_n_train_steps=int(cfg.checkpoint_every),
        save_last=True,
        save_top_k=int(cfg.keep_checkpoints),
        monitor="step",
        mode="max",
        # decide at each step: otherwise Lightning defers the save of an epoch's last step to a
        # validation that may never come (step checkpoints went missing at epoch ends)
        save_on_train_epoch_end=True,
    )
    on_crash = OnExceptionCheckpoint(dirpath=folder, filename="interrupted")
    silence_lightning_noise()
    precision, reason = training_precision(cfg)
    log.info("precision %s (%s)", precision, reason)
    return build(
        cfg.trainer,
        precision=precision,
        default_root_dir=str(output),
        callbacks=[periodic, on_crash, *heldout_callbacks(cfg, output), *(extra_callbacks or [])],
        logger=build_logger(cfg, output),
        enable_progress_bar=bool(cfg.progress),
        enable_model_summary=False,
    )
