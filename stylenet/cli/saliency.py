"""``stylenet-saliency image=photo.jpg method=all``: saliency heatmaps and overlays."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig
from torch import nn

from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.inspect_args import (
    classifier_from_cfg,
    device_from_cfg,
    image_from_cfg,
    optional_int,
)
from stylenet.cli.paths import run_dir
from stylenet.data.heatmap import colormap, normalize_map, overlay
from stylenet.data.images import save_image
from stylenet.errors import ConfigError
from stylenet.methods import saliency
from stylenet.methods.gradcam import gradcam, last_spatial_layer
from stylenet.methods.occlusion import occlusion
from stylenet.nn.classifiers import label_of

METHODS = ("vanilla", "smoothgrad", "guided", "gradcam", "occlusion", "neuron")


def methods_of(name: str) -> list[str]:
    """``all`` → every method; otherwise one (checked)."""
    if name == "all":
        return list(METHODS)
    if name not in METHODS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)} or all; got {name!r}")
    return [name]


def compute_map(
    method: str, model: nn.Module, image: torch.Tensor, target: int, cfg: DictConfig
) -> tuple[torch.Tensor, str]:
    """One saliency map ``H×W`` and a short description of what it explains."""
    if method == "vanilla":
        return saliency.vanilla(model, image, target), "|gradient|"
    if method == "smoothgrad":
        samples = int(require_positive("smoothgrad.samples", cfg.smoothgrad.samples, False))
        generator = torch.Generator().manual_seed(int(cfg.seed or 0))
        noise = require_positive("smoothgrad.noise", cfg.smoothgrad.noise)
        return saliency.smoothgrad(model, image, target, samples, noise, generator=generator), (
            f"SmoothGrad, {samples} samples"
        )
    if method == "guided":
        return saliency.guided_backprop(model, image, target), "guided backprop"
    if method == "gradcam":
        cam, layer = gradcam(model, image, target, cfg.gradcam.layer)
        return cam, f"Grad-CAM at {layer}"
    if method == "occlusion":
        occ = cfg.occlusion
        heat = occlusion(
            model, image, target, int(occ.patch), int(occ.stride), occ.fill,
            int(occ.batch_size), progress=bool(cfg.progress),
        )  # fmt: skip
        return heat.clamp(min=0), f"occlusion {occ.patch}px/{occ.stride}px"
    position = cfg.neuron.position
    if position is not None and len(position) != 2:
        raise ConfigError(f"neuron.position must be [y, x] or null, got {list(position)}")
    named = str(cfg.neuron.layer) if cfg.neuron.layer is not None else None
    layer = named or last_spatial_layer(model, image)
    heat, (c, y, x) = saliency.neuron_gradient(
        model, image, layer, optional_int(cfg.neuron, "channel"),
        None if position is None else (int(position[0]), int(position[1])),
    )  # fmt: skip
    return heat, f"neuron {layer}[{c}, {y}, {x}]"


def run(cfg: DictConfig) -> dict[str, Path]:
    """Write ``<method>.png`` and ``<method>_overlay.png`` per method; returns {name: path}."""
    methods = methods_of(str(cfg.method))
    alpha = require_positive("overlay_alpha", cfg.overlay_alpha)
    if not 0 < float(cfg.clip_percentile) <= 100:
        raise ConfigError(f"clip_percentile must be in (0, 100], got {cfg.clip_percentile}")
    device = device_from_cfg(cfg)
    image = image_from_cfg(cfg, device)
    folder = Path(cfg.output).expanduser() if cfg.output else run_dir()
    model = classifier_from_cfg(cfg, device)
    with torch.no_grad():
        scores = model(image)
    target = saliency.pick_target(scores, optional_int(cfg, "target"))
    print(f"saliency: target {label_of(model, target)}, score {float(scores[0, target]):.4g}")
    written: dict[str, Path] = {}
    for method in methods:
        heat, what = compute_map(method, model, image, target, cfg)
        clip = 100.0 if method in ("gradcam", "occlusion") else float(cfg.clip_percentile)
        unit = normalize_map(heat.cpu(), clip_pct=clip)
        written[method] = save_image(colormap(unit), folder / f"{method}.png")
        blended = overlay(image[0].cpu(), unit, alpha=min(alpha, 1.0))
        written[f"{method}_overlay"] = save_image(blended, folder / f"{method}_overlay.png")
        print(f"  {method}: {what} → {written[method]}")
    return written


@command(config_path=config_dir(), config_name="saliency")
def main(cfg: DictConfig) -> None:
    exit_on_error(run, cfg)


if __name__ == "__main__":
    main()
