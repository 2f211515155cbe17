"""``stylenet-gatys``: Gatys style transfer, or texture synthesis when no content is given."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from hydra.utils import instantiate
from omegaconf import DictConfig, ListConfig

from stylenet import options
from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.paths import output_path
from stylenet.errors import ConfigError

# torch and the library load where they are used, not at import: --help stays fast
if TYPE_CHECKING:
    import torch

    from stylenet.losses import PerceptualLoss


def _as_list(value: object) -> list:
    if isinstance(value, (ListConfig, list, tuple)):
        return list(value)
    return [value]


def _layers(value: object, fallback: object) -> dict[str, float] | list[str]:
    chosen = fallback if value is None else value
    if isinstance(chosen, DictConfig):
        return {str(k): float(v) for k, v in chosen.items()}
    return [str(x) for x in _as_list(chosen)]


def build_loss(cfg: DictConfig) -> PerceptualLoss:
    """``cfg.perceptual`` (its weights and pooling) with this command's layers (and dream layer)."""
    from stylenet.methods.gatys import build_loss_network

    content_layers = _layers(cfg.content_layers, cfg.perceptual.content_layers)
    style_layers = _layers(cfg.style_layers, cfg.perceptual.style_layers)
    dream_layer = cfg.dream_layer if float(cfg.dream_weight) > 0 else None
    vgg = build_loss_network(
        cfg.perceptual.weights, cfg.perceptual.pooling, content_layers, style_layers, dream_layer
    )
    return instantiate(
        cfg.perceptual,
        content_layers=content_layers,
        style_layers=style_layers,
        vgg=vgg,
        _convert_="all",
    )


def output_size(size: object, reference: torch.Tensor | None) -> tuple[int, int]:
    """``size`` = longest side (keeps ``reference``'s aspect ratio) or ``[H, W]``."""
    from stylenet.data.images import target_size

    if isinstance(size, (ListConfig, list, tuple)):
        if len(size) != 2:
            raise ConfigError(f"size must be one number or [H,W], got {list(size)}")
        h, w = (options.side("size", s) or 0 for s in size)
        options.side("size", math.isqrt(h * w))
        return h, w
    side = int(options.side("size", size) or 0)
    if reference is None:
        return side, side
    height, width = reference.shape[-2:]
    return target_size(height, width, max_side=side)


def validate(cfg: DictConfig) -> None:
    """Check the plain options up front (one-line ConfigError each)."""
    for name in ("content_weight", "style_weight", "tv_weight"):
        require_positive(f"perceptual.{name}", cfg.perceptual[name])
    for name in ("range_weight", "dream_weight", "save_every"):
        require_positive(name, cfg[name])
    require_positive("style_scale", cfg.style_scale, allow_zero=False)
    if cfg.perceptual.pooling not in ("max", "avg"):
        raise ConfigError(f"perceptual.pooling must be max or avg, got {cfg.perceptual.pooling!r}")
    if cfg.style is None or not _as_list(cfg.style):
        raise ConfigError("style= is required: style=painting.jpg or style=[a.jpg,b.jpg]")


def run(cfg: DictConfig) -> Path:
    """Stylize ``cfg.content`` with ``cfg.style`` (or synthesise a texture); returns the path."""
    import torch

    from stylenet.data.images import read_image, save_image
    from stylenet.devices import autocast_dtype, resolve_device
    from stylenet.methods.gatys import StyleTargets, gatys_transfer

    validate(cfg)
    autocast_dtype(str(cfg.precision))  # validated before any image is read
    torch.manual_seed(int(cfg.seed))
    device = resolve_device(cfg.device)
    content = None if cfg.content is None else read_image(cfg.content)
    styles = [read_image(path) for path in _as_list(cfg.style)]
    blend = None if cfg.style_blend is None else [float(w) for w in _as_list(cfg.style_blend)]
    size = output_size(cfg.size, content)
    init = cfg.init
    if content is None and init == "content":
        init = "noise"  # texture synthesis starts from noise unless init=PATH
    if init not in ("content", "noise"):
        init = read_image(init)
    default_name = "gatys.png" if content is not None else "texture.png"
    target = output_path(cfg.output, default_name)
    loss = build_loss(cfg).to(device)
    result = gatys_transfer(
        loss,
        None if content is None else content.to(device),
        StyleTargets([s.to(device) for s in styles], blend, float(cfg.style_scale)),
        size=size,
        iterations=_iterations(cfg.iterations),
        num_scales=int(cfg.num_scales),
        init=init.to(device) if isinstance(init, torch.Tensor) else init,
        optimizer=cfg.optimizer,
        lr=cfg.lr,
        dream_layer=cfg.dream_layer,
        dream_weight=float(cfg.dream_weight),
        original_colors=bool(cfg.original_colors),
        seed=int(cfg.seed),
        on_step=_snapshots(target, int(cfg.save_every)),
        progress=bool(cfg.progress),
        dtype=autocast_dtype(str(cfg.precision)),
        range_weight=float(cfg.range_weight),
    )
    return save_image(result.image[0].cpu(), target)


def _iterations(value: object) -> int | Sequence[int]:
    if isinstance(value, (ListConfig, list, tuple)):
        return [int(v) for v in value]
    return int(require_positive("iterations", value))


def _snapshots(target: Path, every: int) -> Callable[[int, int, torch.Tensor], None] | None:
    """A callback writing every ``every``-th step to ``<stem>_steps/s<scale>_<step>.png``."""
    if every <= 0:
        return None
    folder = target.parent / f"{target.stem}_steps"

    def write(scale: int, step: int, image: torch.Tensor) -> None:
        from stylenet.data.images import save_image

        if step % every == 0:
            save_image(image[0].cpu(), folder / f"s{scale + 1}_{step:05d}.png")

    return write


@command(config_path=config_dir(), config_name="gatys")
def main(cfg: DictConfig) -> None:
    path = exit_on_error(run, cfg)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
