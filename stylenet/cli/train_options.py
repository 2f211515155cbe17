"""What the training config (``conf/train.yaml``) says, read and checked: the styles to
train, the precision and schedule, the step a resume starts from, one-line errors for bad values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, ListConfig, OmegaConf

from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.values import plain_dict
from stylenet.data.photos import list_photos
from stylenet.devices import resolve_precision
from stylenet.errors import ConfigError, ModelFileError
from stylenet.lit.schedule import TrainingSchedule
from stylenet.nn.checkpoint import check_resumable, read_checkpoint, verify_checkpoint
from stylenet.nn.transformer import MIN_SIDE
from stylenet.serve.loader import ONNX_SUFFIXES, resolve_model


@dataclass
class StyleSpec:
    """One training style: its name, painting, size for Gram targets and loss scale."""

    name: str
    image: str
    size: int
    scale: float = 1.0
    auto: bool = False  # painting.style_weight=auto: the scale is measured at training start


def style_specs(cfg: DictConfig) -> list[StyleSpec]:
    """The styles to train: ``styles=[a,b,…]`` (names in conf/painting/) or the one ``painting``."""
    names = cfg.get("styles")
    if not names:
        return [_spec(cfg.painting, cfg.perceptual.style_weight)]
    if not isinstance(names, (ListConfig, list)):
        raise ConfigError(f"styles must be a list of style names, got {names!r}")
    return [_spec(load_painting(str(name), cfg), cfg.perceptual.style_weight) for name in names]


def load_painting(name: str, cfg: DictConfig) -> DictConfig:
    """``conf/painting/<name>.yaml`` resolved against ``cfg.paths``."""
    file = Path(config_dir()) / "painting" / f"{name}.yaml"
    if not file.is_file():
        known = sorted(p.stem for p in file.parent.glob("*.yaml"))
        raise ConfigError(f"unknown style {name!r}; choose from {', '.join(known)}")
    merged = OmegaConf.merge({"paths": cfg.paths, "painting": OmegaConf.load(file)})
    return merged.painting


def _spec(painting: DictConfig, default_weight: float) -> StyleSpec:
    if not painting.get("image"):
        raise ConfigError("painting.image is not set; give painting.image=PATH of a painting")
    size = int(require_positive("painting.size", painting.get("size", 512), allow_zero=False))
    weight = painting.get("style_weight")
    scale = 1.0
    if weight == "auto":
        if not float(default_weight) > 0:
            raise ConfigError(
                f"painting.style_weight=auto scales perceptual.style_weight, which is "
                f"{default_weight}; give a positive perceptual.style_weight"
            )
        return StyleSpec(str(painting.name), str(painting.image), size, auto=True)
    if weight is not None and float(default_weight) > 0:
        scale = require_positive("painting.style_weight", weight) / float(default_weight)
    return StyleSpec(str(painting.name), str(painting.image), size, scale)


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
    if experiment_choice() == "add_style" and not cfg.get("base"):
        raise ConfigError(
            "base= is required: experiment=add_style adds styles to a trained network; give "
            "base=PATH of its checkpoint (e.g. <run>/checkpoints/last.ckpt)"
        )
    resume = cfg.get("resume")
    if resume is not None and not Path(str(resume)).is_file():
        raise ConfigError(f"resume checkpoint not found: {resume} (give a .ckpt path)")
    base = base_path(cfg)
    list_photos(Path(str(cfg.data.root)).expanduser())
    specs = style_specs(cfg)
    new_style = new_style_options(cfg)
    if base is not None and base.suffix.lower() not in ONNX_SUFFIXES:
        verify_checkpoint(base)
    if new_style is not None and len(specs) != 1:
        raise ConfigError(
            "experiment=new_style trains one painting: drop styles= and give painting=..."
        )
    if resume:
        model = {} if new_style is not None else plain_dict(cfg.net)  # new_style: the base's
        names = None if base is not None else [spec.name for spec in specs]
        check_resumable(str(resume), model, names)


@dataclass(frozen=True)
class NewStyleOptions:
    """``cfg.new_style`` (``experiment=new_style``), checked.

    ``init``: where the new style's (γ, β) start: ``mean`` of the base's styles, ``nearest``
    (the base style whose output scores best against the new painting,
    :mod:`stylenet.eval.start_style`) or the name of one of the base's styles; ``exclude``:
    base styles not to start from; ``score_photos``: training photos ``nearest`` scores on;
    ``norm_lr``: learning rate of the (γ, β); ``full_steps``: the last this many of the run's
    ``max_steps`` train the whole network (at ``lr``), the steps before only the (γ, β)."""

    init: str
    exclude: tuple[str, ...]
    score_photos: int
    norm_lr: float
    max_steps: int
    full_steps: int

    @property
    def norm_steps(self) -> int:
        """The steps that train only the (γ, β)."""
        return self.max_steps - self.full_steps


def new_style_options(cfg: DictConfig) -> NewStyleOptions | None:
    """``cfg.new_style`` checked (``None`` when the run is not ``experiment=new_style``);
    ``new_style.full_fraction`` of ``trainer.max_steps`` (rounded) are the whole-network steps."""
    node = cfg.get("new_style")
    if node is None:
        return None
    if not isinstance(node, DictConfig):
        raise ConfigError(f"new_style must be a mapping of options, got {node!r}")
    exclude = node.get("exclude") or []
    if not isinstance(exclude, (ListConfig, list)):
        raise ConfigError(f"new_style.exclude must be a list of style names, got {exclude!r}")
    fraction = require_positive("new_style.full_fraction", node.get("full_fraction", 0.0))
    if fraction > 1:
        raise ConfigError(f"new_style.full_fraction must be in [0, 1], got {fraction}")
    max_steps = int(cfg.trainer.max_steps)
    full_steps = round(fraction * max_steps)
    if 0 < full_steps < max_steps and int(cfg.trainer.get("devices", 1)) != 1:
        raise ConfigError(
            "new_style.full_fraction between 0 and 1 needs trainer.devices=1 "
            "(under DDP the trained parameters cannot change mid-run)"
        )
    return NewStyleOptions(
        init=str(node.get("init", "mean")),
        exclude=tuple(str(name) for name in exclude),
        score_photos=int(
            require_positive("new_style.score_photos", node.get("score_photos", 8), False)
        ),
        norm_lr=float(require_positive("new_style.norm_lr", node.get("norm_lr", 1e-2), False)),
        max_steps=max_steps,
        full_steps=full_steps,
    )


def base_path(cfg: DictConfig) -> Path | None:
    """The file of ``base=``: a training checkpoint, an exported fp32 ``.onnx`` (its model card
    beside it) or a shipped model's name (``multi_style``: ``exported/multi_style.onnx``, which
    ships with the package); ``None`` without a base."""
    return trained_network_path(cfg.get("base"), "base")


def trained_network_path(value: object, key: str) -> Path | None:
    """The file of a trained network given as option ``key``: a training checkpoint, an
    exported fp32 ``.onnx`` or a shipped model's name; ``None`` when ``value`` is empty."""
    if not value:
        return None
    try:
        path = resolve_model(str(value))
    except ModelFileError as error:
        raise ConfigError(f"{key}={value}: {error}") from error
    if not path.is_file():
        raise ConfigError(
            f"{key} checkpoint not found: {path} (give a .ckpt or .onnx path, or a shipped "
            "model's name such as multi_style)"
        )
    return path


@dataclass(frozen=True)
class DistillOptions:
    """``cfg.distill`` (``experiment=distill``), checked: the ``teacher`` file, its share of
    the content target, the weight of the pixel term (:mod:`stylenet.lit.distill`) and the
    trained network of the student's architecture it starts from (``init``; ``None``: random)."""

    teacher: Path
    teacher_share: float
    pixel_weight: float
    init: Path | None = None


def distill_options(cfg: DictConfig) -> DistillOptions | None:
    """``cfg.distill`` checked (``None`` when the run is not a distillation)."""
    node = cfg.get("distill")
    if node is None:
        return None
    if not isinstance(node, DictConfig):
        raise ConfigError(f"distill must be a mapping of options, got {node!r}")
    teacher = trained_network_path(node.get("teacher"), "distill.teacher")
    if teacher is None:
        raise ConfigError(
            "distill.teacher is not set; give the training checkpoint (.ckpt) of the "
            "single-style network to imitate"
        )
    share = require_positive("distill.teacher_share", node.get("teacher_share", 0.5))
    if share > 1:
        raise ConfigError(f"distill.teacher_share must be in [0, 1], got {share}")
    if cfg.get("base") or cfg.get("new_style") is not None or cfg.get("styles"):
        raise ConfigError(
            "experiment=distill trains one style from scratch after its teacher; "
            "leave out base=, new_style and styles="
        )
    return DistillOptions(
        teacher=teacher,
        teacher_share=share,
        pixel_weight=require_positive("distill.pixel_weight", node.get("pixel_weight", 0.0)),
        init=distill_start(node),
    )


def distill_start(node: DictConfig) -> Path | None:
    """``distill.init``: the file the student starts from (``???`` in the config: required)."""
    if OmegaConf.is_missing(node, "init"):
        raise ConfigError(
            "distill.init is not set; this experiment starts the student from a trained one: "
            "give distill.init=<run>/checkpoints/last.ckpt (a network of the student's net=)"
        )
    return trained_network_path(node.get("init"), "distill.init")


def training_precision(cfg: DictConfig) -> tuple[str, str]:
    """``trainer.precision`` for Lightning and why: ``auto`` resolved for this machine
    (:func:`stylenet.devices.resolve_precision`: bf16 only where native, else fp32)."""
    return resolve_precision(str(cfg.trainer.precision), str(cfg.trainer.accelerator))


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


def resumed_step(cfg: DictConfig) -> int:
    """The global step training resumes from (0 for a fresh run)."""
    if not cfg.get("resume"):
        return 0
    return int(read_checkpoint(str(cfg.resume)).get("global_step", 0))
