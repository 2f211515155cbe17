"""Build the LightningModule a training run trains: the perceptual loss with its styles' Gram
targets, the transformer, and the facts its model card will carry."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from stylenet.cli.config import build
from stylenet.cli.train_options import (
    DistillOptions,
    NewStyleOptions,
    StyleSpec,
    base_path,
    distill_options,
    new_style_options,
    style_specs,
    training_precision,
    training_schedule,
)
from stylenet.cli.values import plain_dict
from stylenet.data.images import read_image
from stylenet.data.photos import list_photos
from stylenet.errors import ConfigError
from stylenet.eval.start_style import style_scores
from stylenet.eval.style_pull import auto_style_weight, style_pull
from stylenet.lit.distill import DistillationModule
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.checkpoint import CHECKSUM_FACT, ModelInfo, load_transformer
from stylenet.nn.extend import add_styles, single_style, train_only_styles
from stylenet.nn.transformer import TransformerNet
from stylenet.options import require_positive
from stylenet.provenance import machine_description
from stylenet.serve.loader import ONNX_SUFFIXES

log = logging.getLogger(__name__)


def build_loss(cfg: DictConfig, specs: list[StyleSpec]) -> tuple[PerceptualLoss, list[StyleSpec]]:
    """The perceptual loss with every style's Gram targets computed once, and the styles
    with their automatic weights (``painting.style_weight=auto``) measured."""
    loss: PerceptualLoss = build(cfg.perceptual, _convert_="all")
    images = [read_image(spec.image, max_side=spec.size) for spec in specs]
    specs = measured_specs(cfg, specs, images, loss)
    loss.set_styles(images, [spec.scale for spec in specs])
    return loss, specs


def measured_specs(
    cfg: DictConfig, specs: list[StyleSpec], images: list[torch.Tensor], loss: PerceptualLoss
) -> list[StyleSpec]:
    """``specs`` with each ``auto`` style's scale set so that its pull on the first
    ``auto_style_weight.photos`` training photos is ``auto_style_weight.pull``
    (:mod:`stylenet.eval.style_pull`)."""
    if not any(spec.auto for spec in specs):
        return specs
    settings = cfg.get("auto_style_weight") or {}
    count = int(require_positive("auto_style_weight.photos", settings.get("photos", 16), False))
    target = float(require_positive("auto_style_weight.pull", settings.get("pull"), False))
    files = list_photos(Path(str(cfg.data.root)).expanduser())[:count]
    photos = [read_image(file, max_side=int(cfg.data.image_size)) for file in files]
    base = float(cfg.perceptual.style_weight)
    out = []
    for spec, image in zip(specs, images, strict=True):
        if spec.auto:
            loss.set_styles([image])
            weight = auto_style_weight(style_pull(loss, photos), target=target, style_weight=base)
            log.info(
                "painting.style_weight=auto: %s gets %.2f (its pull on %d training photos "
                "evened out to %.3g)",
                spec.name,
                weight,
                len(photos),
                target,
            )
            spec = replace(spec, scale=weight / base, auto=False)
        out.append(spec)
    return out


def build_net(cfg: DictConfig, num_styles: int) -> TransformerNet:
    """The transformer; conditional instance norm when there are several styles."""
    if num_styles > 1:
        return build(cfg.net, norm="conditional_instance", num_styles=num_styles)
    return build(cfg.net)


def training_facts(cfg: DictConfig, specs: list[StyleSpec]) -> dict[str, Any]:
    """What a model card should say about how the network was trained."""
    facts = {
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
        "schedule": plain_dict(cfg.schedule) if cfg.get("schedule") else {},
        "seed": int(cfg.seed),
        "machine": machine_description(str(cfg.trainer.accelerator)),
    }
    weight, limit = spike_settings(cfg)
    if weight > 0:
        facts["spike_penalty"] = {"weight": weight, "limit": limit}
    return facts


def module_options(cfg: DictConfig, output: Path) -> dict[str, Any]:
    """:class:`StyleTransferModule`'s keywords every kind of run takes from ``cfg`` alike:
    ``lr``, ``channels_last``, ``val_dir`` (``output/val``), ``seed`` and ``schedule``."""
    return {
        "lr": float(cfg.lr),
        "channels_last": bool(cfg.channels_last),
        "val_dir": output / "val",
        "seed": int(cfg.seed),
        "schedule": training_schedule(cfg),
    }


def spike_settings(cfg: DictConfig) -> tuple[float, float]:
    """``(weight, limit)`` of ``cfg.spike_penalty``, checked (weight 0, off, when the config
    has none): :class:`StyleTransferModule`'s ``spike_weight`` and ``spike_limit``."""
    node = cfg.get("spike_penalty") or {}
    weight = require_positive("spike_penalty.weight", node.get("weight", 0.0))
    return weight, require_positive("spike_penalty.limit", node.get("limit", 4.0))


def spike_options(cfg: DictConfig) -> dict[str, Any]:
    """:class:`StyleTransferModule`'s ``spike_weight`` and ``spike_limit`` keywords."""
    weight, limit = spike_settings(cfg)
    return {"spike_weight": weight, "spike_limit": limit}


def build_module(cfg: DictConfig, output: Path) -> StyleTransferModule:
    """The LightningModule for ``cfg``'s style(s), for adding them to ``cfg.base``, or for a
    new single style on top of ``cfg.base`` (``experiment=new_style``)."""
    specs = style_specs(cfg)
    distill = distill_options(cfg)
    if distill is not None:
        return build_distill_module(cfg, specs, output, distill)
    options = new_style_options(cfg)
    if options is not None:
        return build_new_style_module(cfg, specs, output, options)
    if cfg.get("base"):
        return build_add_style_module(cfg, specs, output)
    loss, specs = build_loss(cfg, specs)
    return StyleTransferModule(
        build_net(cfg, len(specs)),
        loss,
        styles=[spec.name for spec in specs],
        facts=training_facts(cfg, specs),
        **module_options(cfg, output),
        **spike_options(cfg),
    )


def build_add_style_module(
    cfg: DictConfig, specs: list[StyleSpec], output: Path
) -> StyleTransferModule:
    """Train only new styles' (γ, β) on top of the trained network ``cfg.base``."""
    base, info = load_base(cfg)
    clash = [spec.name for spec in specs if spec.name in info.styles]
    if clash:
        raise ConfigError(
            f"{cfg.base} already has style(s) {', '.join(clash)}; name the new one differently "
            "(painting.name=...)"
        )
    loss, specs = build_loss(cfg, specs)
    net = add_styles(base, len(specs))
    new_styles = list(range(len(info.styles), net.num_styles))
    train_only_styles(net, new_styles)
    facts = dict(info.facts, **training_facts(cfg, specs))
    facts["style_images"] = {**info.facts.get("style_images", {}), **facts["style_images"]}
    facts["added_styles"] = [spec.name for spec in specs]
    facts["base_checkpoint"] = base_name(cfg)
    return StyleTransferModule(
        net,
        loss,
        styles=[*info.styles, *(spec.name for spec in specs)],
        facts=facts,
        train_styles=new_styles,
        **module_options(cfg, output),
        **spike_options(cfg),
    )


def load_base(cfg: DictConfig) -> tuple[TransformerNet, ModelInfo]:
    """The trained network of ``cfg.base`` (:func:`base_path`: a checkpoint, an exported fp32
    model or a shipped model's name) and what it knows about itself."""
    path = base_path(cfg)
    if path is None:
        raise ConfigError("base= is not set; give base=PATH of a trained network")
    return load_trained(path)


def load_trained(path: Path) -> tuple[TransformerNet, ModelInfo]:
    """The trained network in ``path`` (a checkpoint or an exported fp32 model) and its info."""
    if path.suffix.lower() in ONNX_SUFFIXES:
        from stylenet.export.weights import load_exported_transformer  # ONNX: only here

        return load_exported_transformer(path)
    return load_transformer(path)


def base_name(cfg: DictConfig) -> str:
    """The file name of ``cfg.base`` (what a model card says the run started from)."""
    path = base_path(cfg)
    return "" if path is None else path.name


def start_styles(
    cfg: DictConfig,
    net: TransformerNet,
    info: ModelInfo,
    loss: PerceptualLoss,
    options: NewStyleOptions,
) -> tuple[list[int], dict[str, float]]:
    """The base styles whose mean (γ, β) a new style starts from (``new_style.init``), and
    each candidate's score when ``init=nearest`` measured them."""
    unknown = [name for name in options.exclude if name not in info.styles]
    if unknown:
        raise ConfigError(
            f"new_style.exclude names {', '.join(unknown)}, not a style of the base "
            f"({', '.join(info.styles)})"
        )
    candidates = [i for i, name in enumerate(info.styles) if name not in options.exclude]
    if not candidates:
        raise ConfigError("new_style.exclude leaves no style of the base to start from")
    if options.init == "mean":
        return candidates, {}
    if options.init in info.styles:
        if options.init in options.exclude:
            raise ConfigError(f"new_style.init={options.init} is in new_style.exclude")
        return [info.styles.index(options.init)], {}
    if options.init != "nearest":
        raise ConfigError(
            f"new_style.init must be mean, nearest or a style of the base "
            f"({', '.join(info.styles)}), got {options.init!r}"
        )
    files = list_photos(Path(str(cfg.data.root)).expanduser())[: options.score_photos]
    photos = [read_image(file, max_side=int(cfg.data.image_size)) for file in files]
    scores = style_scores(net, loss, photos, candidates)
    named = {info.styles[i]: round(score, 1) for i, score in zip(candidates, scores, strict=True)}
    best = candidates[scores.index(min(scores))]
    log.info(
        "new_style.init=nearest: starting from %s (content + style on %d photos: %s)",
        info.styles[best],
        len(photos),
        ", ".join(f"{name} {score:.3g}" for name, score in named.items()),
    )
    return [best], named


def build_new_style_module(
    cfg: DictConfig, specs: list[StyleSpec], output: Path, options: NewStyleOptions
) -> StyleTransferModule:
    """A single-style network for ``cfg.painting`` on the trained network ``cfg.base``: its
    convolutions, (γ, β) started from some of its styles (:func:`start_styles`); the
    (γ, β) train first, the whole network for the last ``new_style.full_fraction`` of the
    steps (kept only where they measure better: :mod:`stylenet.lit.finetune_gate`)."""
    base, info = load_base(cfg)
    loss, specs = build_loss(cfg, specs)
    picks, scores = start_styles(cfg, base, info, loss, options)
    net = single_style(base, picks)
    facts = training_facts(cfg, specs)
    facts["new_style"] = {
        "base": base_name(cfg),
        "base_styles": list(info.styles),
        "base_steps": info.facts.get("steps", info.facts.get("global_step")),
        "base_weights_sha256": info.facts.get(CHECKSUM_FACT),
        "init": options.init,
        "started_from": [info.styles[i] for i in picks],
        "norm_lr": options.norm_lr,
        "norm_steps": options.norm_steps,
        "full_steps": options.full_steps,
    }
    if scores:
        facts["new_style"]["start_scores"] = scores
    return StyleTransferModule(
        net,
        loss,
        styles=[spec.name for spec in specs],
        facts=facts,
        **module_options(cfg, output),
        norm_lr=options.norm_lr,
        norms_only_steps=options.norm_steps,
        **spike_options(cfg),
    )


def warm_start_student(student: TransformerNet, path: Path) -> dict[str, Any]:
    """Load the trained single-style network in ``path`` (``distill.init``: an earlier student,
    of this painting or another) into ``student``, which must have its architecture; what a
    model card should say about the start."""
    start, info = load_trained(path)
    if start.config != student.config:  # its norm and number of styles too
        raise ConfigError(
            f"distill.init={path.name} is a network with {describe_network(start.config)}; "
            f"the student (net=) has "
            f"{describe_network(student.config)}: give a single-style network of the "
            "student's architecture (an earlier distillation's checkpoint)"
        )
    student.load_state_dict(start.state_dict())
    return {
        "styles": list(info.styles),
        "steps": info.facts.get("steps", info.facts.get("global_step")),
        "weights_sha256": info.facts.get(CHECKSUM_FACT),
    }


def describe_network(config: dict[str, Any]) -> str:
    """``key=value`` pairs of a network's architecture, for an error message."""
    return ", ".join(f"{key}={value}" for key, value in sorted(config.items()))


def build_distill_module(
    cfg: DictConfig, specs: list[StyleSpec], output: Path, options: DistillOptions
) -> DistillationModule:
    """A student network (``cfg.net``) for ``cfg.painting``, trained after the teacher
    ``distill.teacher`` (:mod:`stylenet.lit.distill`)."""
    teacher, info = load_trained(options.teacher)
    if teacher.is_multi_style or len(specs) != 1:
        raise ConfigError(
            f"distill.teacher={options.teacher.name} has styles {', '.join(info.styles)}; "
            "distillation needs a single-style teacher and one painting="
        )
    if specs[0].name != info.styles[0]:
        raise ConfigError(
            f"distill.teacher={options.teacher.name} was trained on {info.styles[0]}, not "
            f"painting={specs[0].name}; give painting={info.styles[0]}"
        )
    loss, specs = build_loss(cfg, specs)
    facts = training_facts(cfg, specs)
    taught = info.facts.get("style_weights", {}).get(info.styles[0])
    if taught is not None and abs(float(taught) - facts["style_weights"][specs[0].name]) > 1e-3:
        log.warning(
            "the teacher was trained at style weight %.3g, this run uses %.3g: the student is "
            "judged on another loss than its teacher",
            float(taught),
            facts["style_weights"][specs[0].name],
        )
    facts["distillation"] = {
        "teacher": str(cfg.distill.teacher),  # as given: a shipped name or a path
        "teacher_model": dict(teacher.config),
        "teacher_steps": info.facts.get("steps", info.facts.get("global_step")),
        "teacher_weights_sha256": info.facts.get(CHECKSUM_FACT),
        "teacher_share": options.teacher_share,
        "pixel_weight": options.pixel_weight,
    }
    student = build_net(cfg, 1)
    if options.init is not None:
        facts["distillation"]["init"] = {
            "file": str(cfg.distill.init),  # as given, like the teacher
            **warm_start_student(student, options.init),
        }
    return DistillationModule(
        student,
        loss,
        styles=[spec.name for spec in specs],
        teacher=teacher,
        teacher_share=options.teacher_share,
        pixel_weight=options.pixel_weight,
        facts=facts,
        **module_options(cfg, output),
    )
