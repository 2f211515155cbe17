"""``stylenet-visualize target=12``: class or neuron visualisation by gradient ascent."""

from __future__ import annotations

from pathlib import Path

import torch
from omegaconf import DictConfig

from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.inspect_args import classifier_from_cfg, device_from_cfg, optional_int
from stylenet.cli.paths import output_path
from stylenet.data.images import read_image, save_image
from stylenet.errors import ConfigError
from stylenet.methods.visualize import Regularizers, visualize
from stylenet.nn.classifiers import label_of
from stylenet.nn.hooks import layer_function


def regularizers_from_cfg(cfg: DictConfig) -> Regularizers:
    """The Yosinski et al. (2015) regularisers, validated."""
    for key in ("l2_decay", "blur_sigma", "norm_pct", "contrib_pct"):
        require_positive(key, cfg[key])
    if float(cfg.l2_decay) >= 1 or float(cfg.norm_pct) >= 100 or float(cfg.contrib_pct) >= 100:
        raise ConfigError("l2_decay must be < 1 and norm_pct, contrib_pct < 100")
    return Regularizers(
        l2_decay=float(cfg.l2_decay),
        blur_every=int(require_positive("blur_every", cfg.blur_every)),
        blur_sigma=float(cfg.blur_sigma),
        norm_pct=float(cfg.norm_pct),
        contrib_pct=float(cfg.contrib_pct),
        jitter=int(require_positive("jitter", cfg.jitter)),
    )


def run(cfg: DictConfig) -> Path:
    """Maximise class/channel ``cfg.target`` and write the picture; returns its path."""
    target = optional_int(cfg, "target")
    if target is None or target < 0:
        raise ConfigError(f"target must be a class (or channel) index >= 0, got {cfg.target}")
    size = int(require_positive("size", cfg.size, allow_zero=False))
    reg = regularizers_from_cfg(cfg)
    device = device_from_cfg(cfg)
    out = output_path(cfg.output, "visualize.png")
    model = classifier_from_cfg(cfg, device)
    if cfg.unit_layer:
        features = layer_function(model, str(cfg.unit_layer))
        what = f"{cfg.unit_layer} channel {target}"

        def score_fn(x: torch.Tensor) -> torch.Tensor:
            act = features(x)
            if target >= act.shape[1]:
                raise ConfigError(
                    f"target {target} is out of range; {cfg.unit_layer} has {act.shape[1]} channels"
                )
            return act[0, target].mean()
    else:
        what = f"class {label_of(model, target)}"

        def score_fn(x: torch.Tensor) -> torch.Tensor:
            scores = model(x)
            if target >= scores.shape[1]:
                raise ConfigError(
                    f"target {target} is out of range; the model has {scores.shape[1]} classes"
                )
            return scores[0, target]

    init = None
    if cfg.init:
        init = read_image(str(cfg.init), size=(size, size)).unsqueeze(0).to(device)
    generator = torch.Generator().manual_seed(int(cfg.seed or 0))
    image, history = visualize(
        score_fn, (size, size), int(cfg.steps), float(cfg.lr), reg, init,
        progress=bool(cfg.progress), generator=generator, device=device,
    )  # fmt: skip
    save_image(image[0].cpu(), out)
    print(f"visualize: {what}: score {history[0]:.4g} → {history[-1]:.4g}; wrote {out}")
    return out


@command(config_path=config_dir(), config_name="visualize")
def main(cfg: DictConfig) -> None:
    exit_on_error(run, cfg)


if __name__ == "__main__":
    main()
