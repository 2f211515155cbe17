"""Config → objects shared by the "looking inside" commands (dream, saliency, visualize, fool,
inspect).

Every one of them names its model with the same keys: ``classifier`` (a torchvision name, a
saved model file or a VGG weight key), ``weights``, ``layer`` and ``normalize``. (The key is
``classifier``, not ``model``: ``model`` is the config group of transformer networks.)
"""

from __future__ import annotations

import torch
from omegaconf import DictConfig
from torch import nn

from stylenet.cli.config import require_positive
from stylenet.data.images import read_image, require_min_size
from stylenet.devices import resolve_device
from stylenet.errors import ConfigError
from stylenet.nn.classifiers import load_classifier


def classifier_from_cfg(cfg: DictConfig, device: torch.device) -> nn.Module:
    """The score model named by ``cfg.classifier`` / ``weights`` / ``layer`` / ``normalize``."""
    if not cfg.classifier:
        raise ConfigError("classifier= is required (e.g. classifier=vgg19_caffe or resnet18)")
    model = load_classifier(
        str(cfg.classifier),
        weights=str(cfg.weights),
        layer=str(cfg.layer),
        normalize=str(cfg.normalize),
    )
    return model.to(device)


def image_from_cfg(cfg: DictConfig, device: torch.device, key: str = "image") -> torch.Tensor:
    """``cfg[key]`` read as ``1×3×H×W`` [0, 1], longest side ``cfg.max_side`` (null: as is)."""
    path = cfg.get(key)
    if not path:
        raise ConfigError(f"{key}= is required: the path of a photo")
    max_side = cfg.get("max_side")
    if max_side is not None:
        require_positive("max_side", max_side, allow_zero=False)
    image = read_image(str(path), max_side=int(max_side) if max_side else None)
    require_min_size(image, 16, what=str(path))
    return image.unsqueeze(0).to(device)


def device_from_cfg(cfg: DictConfig) -> torch.device:
    """``cfg.device`` resolved; seeds torch from ``cfg.seed`` when present."""
    if cfg.get("seed") is not None:
        torch.manual_seed(int(cfg.seed))
    return resolve_device(str(cfg.get("device", "auto")))


def optional_int(cfg: DictConfig, key: str) -> int | None:
    """``cfg[key]`` as an int, or None when null; a clear error when it is not a whole number."""
    value = cfg.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key} must be a whole number or null, got {value!r}")
    return value
