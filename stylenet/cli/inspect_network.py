"""Config → the network, photos and cached folder features that ``stylenet-inspect`` looks at."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from torch import nn

from stylenet.cli.config import require_positive
from stylenet.data.images import list_images, read_image, require_min_size
from stylenet.errors import ConfigError, ImageError
from stylenet.methods.feature_cache import (
    FeatureCache,
    cache_key,
    default_cache_dir,
    files_fingerprint,
)
from stylenet.methods.filters import conv_weights
from stylenet.methods.folder_features import FeatureFn, Summary, folder_features
from stylenet.methods.receptive_field import SpatialOp, module_ops, vgg_ops
from stylenet.nn.checkpoint import load_transformer
from stylenet.nn.classifiers import load_classifier
from stylenet.nn.hooks import layers_function
from stylenet.nn.vgg import VGGFeatures, layer_names
from stylenet.nn.vgg_weights import VGGWeights

CACHE_FORMAT = 1  # bump when the cached arrays change meaning


@dataclass
class Network:
    """Features of named layers, the layer geometry (for receptive fields) and an identity
    of the weights (for the feature cache)."""

    features: FeatureFn
    ops: Callable[[str], list[SpatialOp]]
    identity: str
    module: nn.Module
    is_vgg: bool


def is_vgg(cfg: DictConfig) -> bool:
    return str(cfg.classifier) in [member.key for member in VGGWeights]


def network_from_cfg(cfg: DictConfig, layers: list[str], device: torch.device) -> Network:
    """The ``classifier=`` network computing ``layers``."""
    name = str(cfg.classifier)
    if is_vgg(cfg):
        vgg = VGGFeatures(layers, weights=name).to(device)
        return Network(vgg, lambda layer: vgg_ops(vgg, layer), f"vgg:{name}", vgg, True)
    model = load_classifier(name, weights=str(cfg.weights), normalize=str(cfg.normalize))
    model = model.to(device)
    identity = f"torchvision:{name}:{cfg.weights}"
    if Path(name).is_file():
        stat = Path(name).stat()
        identity = f"file:{Path(name).resolve()}:{stat.st_size}:{stat.st_mtime_ns}:{cfg.normalize}"
    return Network(
        layers_function(model, layers), lambda layer: module_ops(model, layer), identity,
        model, False,
    )  # fmt: skip


def layer_or_default(cfg: DictConfig, default: str) -> str:
    """``cfg.layer``, or ``default`` for a VGG (other networks need ``layer=``)."""
    if cfg.layer is not None:
        return str(cfg.layer)
    if is_vgg(cfg):
        return default
    raise ConfigError(f"layer= is required for classifier={cfg.classifier} (a module name)")


def folder_files(cfg: DictConfig) -> tuple[Path, list[Path]]:
    """``images=`` and the photos in it (recursive), checked."""
    if not cfg.images:
        raise ConfigError(f"method={cfg.method} needs images= (a folder of photos)")
    root = Path(str(cfg.images)).expanduser()
    if root.is_file():
        raise ImageError(f"images= must be a folder, got the file {root}; use image= for one photo")
    if not root.is_dir():
        raise ImageError(f"images= folder not found: {root} (give a folder of photos)")
    files = list_images(root)
    if not files:
        raise ImageError(f"no images in folder {root} (JPEG, PNG, WebP, TIFF or BMP)")
    return root, files


def one_image(cfg: DictConfig, device: torch.device) -> torch.Tensor:
    """``image=`` as ``1×3×H×W`` [0, 1], the longest side ``size`` pixels."""
    if not cfg.image:
        raise ConfigError(f"method={cfg.method} needs image= (the path of a photo)")
    image = read_image(str(cfg.image), max_side=int(cfg.size))
    require_min_size(image, 16, what=str(cfg.image))
    return image.unsqueeze(0).to(device)


def cached_folder_features(
    cfg: DictConfig,
    network: Network,
    root: Path,
    files: list[Path],
    *,
    what: str,
    summarize: Summary,
    device: torch.device,
) -> dict[str, np.ndarray]:
    """``summarize`` over the folder, from the cache when the same (folder contents,
    ``what`` (layers), weights, size) were seen before."""
    size = int(require_positive("size", cfg.size, allow_zero=False))
    batch_size = int(require_positive("batch_size", cfg.batch_size, allow_zero=False))
    root_dir = Path(str(cfg.cache_dir)).expanduser() if cfg.cache_dir else default_cache_dir()
    cache = FeatureCache(root_dir if cfg.cache else None)
    key = cache_key(
        files=files_fingerprint(files, root), what=what, weights=network.identity, size=size,
        format=CACHE_FORMAT,
    )  # fmt: skip

    def compute() -> dict[str, np.ndarray]:
        return folder_features(
            network.features, files, summarize, size=size, batch_size=batch_size,
            device=device, progress=bool(cfg.progress),
        )  # fmt: skip

    arrays, hit = cache.get_or_compute(key, compute)
    where = f"from the cache {cache.path(key)}" if hit else "computed"
    print(f"inspect: {what} features of {len(files)} photos {where}")
    return arrays


def conv_weight_from_cfg(
    cfg: DictConfig, device: torch.device
) -> tuple[str, torch.Tensor, list[int] | None, str]:
    """The convolution ``layer=`` of ``model=`` (a checkpoint's transformer) or of the
    ``classifier=``: ``(name, O×I×k×k weight on the CPU, input channel order or None, source)``."""
    order = None
    if cfg.model:
        weights = conv_weights(load_transformer(str(cfg.model))[0])
        source = str(cfg.model)
    elif is_vgg(cfg):
        names = layer_names(VGGWeights.parse(str(cfg.classifier)).arch)
        layer = str(cfg.layer or "relu1_1").replace("conv", "relu", 1)
        if layer not in names:
            raise ConfigError(
                f"unknown VGG layer {cfg.layer!r}; use conv1_1 … conv{names[-1][4:]} "
                f"(or the relu names)"
            )
        vgg = VGGFeatures([layer], weights=str(cfg.classifier)).to(device)
        weights = {f"conv{layer[4:]}": vgg.conv_layers()[names.index(layer)].weight}
        order, source = vgg.channel_order, str(cfg.classifier)
    else:
        model = network_from_cfg(cfg, [], device).module
        weights = {k.removeprefix("model."): w for k, w in conv_weights(model).items()}
        source = str(cfg.classifier)
    if not weights:
        raise ConfigError(f"{source} has no 2-D convolutions")
    single = cfg.layer is None or (is_vgg(cfg) and not cfg.model)  # VGG: the one asked for
    name = next(iter(weights)) if single else str(cfg.layer)
    if name not in weights:
        raise ConfigError(f"{source} has no convolution {name!r}; use one of {', '.join(weights)}")
    return name, weights[name].detach().cpu().float(), order, source
