"""``stylenet-dream image=photo.jpg layer=relu4_2``: DeepDream on one photo."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.inspect_args import (
    classifier_from_cfg,
    device_from_cfg,
    image_from_cfg,
    optional_int,
)
from stylenet.cli.paths import output_path
from stylenet.data.images import read_image, save_image
from stylenet.errors import ConfigError
from stylenet.methods.dream import deep_dream, guide_features, layer_objective, octave_sizes
from stylenet.nn.hooks import layer_function

MIN_OCTAVE_SIDE = 16  # VGG's relu5_x sits behind four 2× poolings


def run(cfg: DictConfig) -> Path:
    """Dream on ``cfg.image`` and write the result; returns the output path."""
    for key in ("octave_scale", "step_size"):
        require_positive(key, cfg[key], allow_zero=False)
    device = device_from_cfg(cfg)
    image = image_from_cfg(cfg, device)
    target = output_path(cfg.output, "dream.png")
    height, width = image.shape[-2:]
    smallest = octave_sizes(height, width, int(cfg.octaves), float(cfg.octave_scale))[0]
    if min(smallest) < MIN_OCTAVE_SIDE:
        raise ConfigError(
            f"the smallest octave would be {smallest[0]}×{smallest[1]} px (< {MIN_OCTAVE_SIDE}); "
            f"use fewer octaves, a smaller octave_scale or a larger max_side"
        )
    model = classifier_from_cfg(cfg, device)
    features = layer_function(model, str(cfg.layer))
    channel = optional_int(cfg, "channel")
    guide = None
    if cfg.guide:
        guide_image = read_image(str(cfg.guide), max_side=int(cfg.guide_max_side))
        guide = guide_features(features, guide_image.unsqueeze(0).to(device), channel)
    generator = torch.Generator().manual_seed(int(cfg.seed or 0))
    dreamed, history = deep_dream(
        features,
        image,
        iterations=int(cfg.iterations),
        octaves=int(cfg.octaves),
        octave_scale=float(cfg.octave_scale),
        step_size=float(cfg.step_size),
        jitter=int(cfg.jitter),
        channel=channel,
        guide=guide,
        progress=bool(cfg.progress),
        generator=generator,
    )
    save_image(dreamed[0].cpu(), target)
    with torch.no_grad():
        before, after = (float(layer_objective(features(x), channel)) for x in (image, dreamed))
    print(
        f"dream: ½‖{cfg.layer}‖² {before:.4g} → {after:.4g} (×{after / max(before, 1e-12):.3g}) "
        f"after {len(history)} steps; wrote {target}"
    )
    return target


@command(config_path=config_dir(), config_name="dream")
def main(cfg: DictConfig) -> None:
    exit_on_error(run, cfg)


if __name__ == "__main__":
    main()
