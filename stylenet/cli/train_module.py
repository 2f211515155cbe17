"""Build the LightningModule a training run trains: the perceptual loss with its styles' Gram
targets, the transformer, and the facts its model card will carry."""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch
from omegaconf import DictConfig

from stylenet.cli.train_options import (
    StyleSpec,
    style_specs,
    training_precision,
    training_schedule,
)
from stylenet.cli.values import plain_dict
from stylenet.config import build
from stylenet.data.images import read_image
from stylenet.data.photos import list_photos
from stylenet.errors import ConfigError
from stylenet.eval.style_pull import auto_style_weight, style_pull
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.checkpoint import load_transformer
from stylenet.nn.extend import add_styles, train_only_styles
from stylenet.nn.transformer import TransformerNet
from stylenet.options import require_positive
from stylenet.provenance import machine_description

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
    """The LightningModule for ``cfg``'s style(s), or for adding them to ``cfg.base``."""
    specs = style_specs(cfg)
    if cfg.get("base"):
        return build_add_style_module(cfg, specs, output)
    loss, specs = build_loss(cfg, specs)
    return StyleTransferModule(
        build_net(cfg, len(specs)),
        loss,
        styles=[spec.name for spec in specs],
        lr=float(cfg.lr),
        facts=training_facts(cfg, specs),
        channels_last=bool(cfg.channels_last),
        val_dir=output / "val",
        seed=int(cfg.seed),
        schedule=training_schedule(cfg),
        **spike_options(cfg),
    )


def build_add_style_module(
    cfg: DictConfig, specs: list[StyleSpec], output: Path
) -> StyleTransferModule:
    """Train only new styles' (γ, β) on top of the trained network ``cfg.base``."""
    base, info = load_transformer(str(cfg.base))
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
    facts["base_checkpoint"] = Path(str(cfg.base)).name
    return StyleTransferModule(
        net,
        loss,
        styles=[*info.styles, *(spec.name for spec in specs)],
        lr=float(cfg.lr),
        facts=facts,
        channels_last=bool(cfg.channels_last),
        val_dir=output / "val",
        train_styles=new_styles,
        seed=int(cfg.seed),
        schedule=training_schedule(cfg),
        **spike_options(cfg),
    )
