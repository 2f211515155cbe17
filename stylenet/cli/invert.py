"""``stylenet-invert``: reconstruct a photo from one VGG layer's features (or a strip of layers)."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig, ListConfig

from stylenet import options
from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.paths import output_path
from stylenet.errors import ConfigError


def chosen_layers(cfg: DictConfig) -> list[str]:
    """``layers`` when given (a list), else ``[layer]``."""
    if cfg.layers is None:
        return [str(cfg.layer)]
    layers = list(cfg.layers) if isinstance(cfg.layers, (ListConfig, list)) else [cfg.layers]
    if not layers:
        raise ConfigError("layers= is empty; give e.g. layers=[relu1_1,relu3_1]")
    return [str(x) for x in layers]


def run(cfg: DictConfig) -> Path:
    """Invert ``cfg.image`` at each chosen layer; write the image (or the strip) and return it."""
    # torch and the library load here, not at import: --help stays fast
    import torch

    from stylenet.data.images import read_image, save_image
    from stylenet.devices import resolve_device
    from stylenet.methods.invert import invert_layer, labelled_strip
    from stylenet.nn.vgg import VGGFeatures

    for name in ("tv_weight", "tv_beta", "range_weight"):
        require_positive(name, cfg[name])
    size = int(options.side("size", cfg.size) or 0)
    layers = chosen_layers(cfg)
    vgg = VGGFeatures(layers, weights=cfg.perceptual.weights, pooling=cfg.perceptual.pooling)
    device = resolve_device(cfg.device)
    vgg = vgg.to(device)
    image = read_image(cfg.image, max_side=size)[None].to(device)
    torch.manual_seed(int(cfg.seed))
    results = [
        invert_layer(
            vgg,
            image,
            layer,
            iterations=int(require_positive("iterations", cfg.iterations)),
            tv_weight=float(cfg.tv_weight),
            tv_beta=float(cfg.tv_beta),
            optimizer=cfg.optimizer,
            lr=cfg.lr,
            seed=int(cfg.seed),
            progress=bool(cfg.progress),
            range_weight=float(cfg.range_weight),
        ).image.cpu()
        for layer in layers
    ]
    if cfg.layers is None:
        return save_image(results[0][0], output_path(cfg.output, "inverted.png"))
    strip = labelled_strip([image.cpu(), *results], ["original", *layers])
    return save_image(strip, output_path(cfg.output, "inversion_strip.png"))


@command(config_path=config_dir(), config_name="invert")
def main(cfg: DictConfig) -> None:
    path = exit_on_error(run, cfg)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
