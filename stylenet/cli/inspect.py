"""``stylenet-inspect method=filters|activations|patches|neighbors|embed``: looking inside a
network. Each method writes one picture (``activations``: one per layer)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig
from PIL import Image

from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.inspect_args import device_from_cfg
from stylenet.cli.inspect_network import (
    cached_folder_features,
    conv_weight_from_cfg,
    folder_files,
    layer_or_default,
    network_from_cfg,
    one_image,
)
from stylenet.cli.paths import output_path, run_dir
from stylenet.data.heatmap import with_color_bar
from stylenet.data.images import save_image, tensor_to_pil
from stylenet.errors import ConfigError
from stylenet.methods.activations import activation_tiles, busiest_channels
from stylenet.methods.embed import check_method, embed_2d, thumbnail_map
from stylenet.methods.filters import (
    check_channels,
    colour_filters,
    enlarge,
    rgb_order,
    strongest_inputs,
)
from stylenet.methods.folder_features import (
    activation_summary,
    folder_features,
    gram_summary,
    load_square,
)
from stylenet.methods.neighbors import METRICS, nearest
from stylenet.methods.patches import strongest_channels, top_units, unit_patch
from stylenet.methods.receptive_field import check_ops, inside_units, receptive_field
from stylenet.methods.style_codes import style_codes
from stylenet.nn.checkpoint import load_transformer
from stylenet.serve.figure import FigureRow, captioned_grid

METHODS = ("filters", "activations", "patches", "neighbors", "embed")
ACTIVATION_LAYERS = ["relu1_1", "relu2_1", "relu3_1", "relu4_1"]
MAPS_PER_LAYER = 32
COLUMNS = 8


def figure_row(tiles: list[torch.Tensor], captions: list[str] | None = None) -> FigureRow:
    """A figure row of ``3×H×W`` tensors in [0, 1] (figures take ``H×W×3`` uint8 tiles)."""
    return FigureRow([np.asarray(tensor_to_pil(tile)) for tile in tiles], captions)


def grid(tiles: list[torch.Tensor], captions: list[str] | None = None) -> Image.Image:
    """Tiles in rows of :data:`COLUMNS` (the last row padded with white)."""
    rows = []
    for first in range(0, len(tiles), COLUMNS):
        chunk = tiles[first : first + COLUMNS]
        caps = captions[first : first + COLUMNS] if captions else None
        missing = COLUMNS - len(chunk) if len(tiles) > COLUMNS else 0
        chunk = chunk + [torch.ones_like(tiles[0])] * missing
        rows.append(figure_row(chunk, caps + [""] * missing if caps else None))
    return captioned_grid(rows)


def save(page: Image.Image, path: Path, cfg: DictConfig) -> Path:
    """Write ``page`` (JPEG/WebP at ``cfg.quality``)."""
    return save_image(page, path, quality=int(cfg.quality))


def chosen_channels(cfg: DictConfig, count: int, what: str) -> list[int] | None:
    if cfg.channels is None:
        return None
    channels = [cfg.channels] if isinstance(cfg.channels, int) else list(cfg.channels)
    return check_channels([int(c) for c in channels], count, what)


def run_filters(cfg: DictConfig, device: torch.device) -> list[Path]:
    """The weights of one convolution layer as a picture."""
    name, weight, order, source = conv_weight_from_cfg(cfg, device)
    channels = chosen_channels(cfg, weight.shape[0], name)
    side = int(cfg.tile) // 2
    if weight.shape[1] == 3:
        if order is not None:
            weight = rgb_order(weight, order)
        page = grid([enlarge(t, side) for t in colour_filters(weight, channels)])
    else:
        if channels is None:
            norms = weight.flatten(1).norm(dim=1)
            channels = norms.argsort(descending=True)[: int(cfg.rows)].tolist()
        rows = strongest_inputs(weight, channels, inputs=int(cfg.filters.inputs))
        page = captioned_grid(
            [figure_row([enlarge(t, side) for t in row], [f"{c}"] + [""] * (len(row) - 1))
             for c, row in zip(channels, rows, strict=True)]
        )  # fmt: skip
    target = save(page, output_path(cfg.output, "filters.png"), cfg)
    print(f"filters: {name} of {source}, {tuple(weight.shape)} → {target}")
    return [target]


def run_activations(cfg: DictConfig, device: torch.device) -> list[Path]:
    """Feature maps of each of ``layers`` for ``image=`` on one colour scale per layer."""
    layers = [
        str(x)
        for x in (cfg.layers or ([cfg.layer] if cfg.layer is not None else ACTIVATION_LAYERS))
    ]
    image = one_image(cfg, device)
    with torch.no_grad():
        maps = network_from_cfg(cfg, layers, device).features(image)
    several = len(layers) > 1
    if (
        several
        and cfg.output
        and Path(str(cfg.output)).suffix
        and not Path(str(cfg.output)).is_dir()
    ):
        raise ConfigError(
            f"output={cfg.output} looks like a file but {len(layers)} layers make one picture "
            "each; give a folder as output="
        )
    written = []
    for layer in layers:
        m = maps[layer][0].cpu()
        if m.dim() != 3:
            raise ConfigError(f"layer {layer} gives {tuple(m.shape)}, not C×h×w feature maps")
        channels = chosen_channels(cfg, m.shape[0], layer) or busiest_channels(m, MAPS_PER_LAYER)
        tiles, low, high = activation_tiles(m, channels, side=int(cfg.tile))
        page = with_color_bar(grid(tiles, [str(c) for c in channels]), low, high)
        if several or not cfg.output or Path(str(cfg.output)).is_dir():
            folder = Path(str(cfg.output)).expanduser() if cfg.output else run_dir()
            target = folder / f"{layer}.png"
        else:
            target = Path(str(cfg.output)).expanduser()
        written.append(save(page, target, cfg))
        print(f"activations: {layer} {tuple(m.shape)}, scale {low:.3g} … {high:.3g} → {target}")
    return written


def run_patches(cfg: DictConfig, device: torch.device) -> list[Path]:
    """Per channel, the top-``k`` photo patches (receptive-field crops) of ``layer``."""
    root, files = folder_files(cfg)
    layer = layer_or_default(cfg, "relu4_1")
    network = network_from_cfg(cfg, [layer], device)
    size = int(require_positive("size", cfg.size, allow_zero=False))
    ops = network.ops(layer)
    if not network.is_vgg:
        with torch.no_grad():
            probe = network.features(torch.zeros(1, 3, size, size, device=device))[layer]
        if probe.dim() != 4:
            raise ConfigError(f"layer {layer} gives {tuple(probe.shape)}, not feature maps")
        check_ops(ops, size, int(probe.shape[-1]), layer)
    field = receptive_field(ops)
    inside = inside_units(field, size)
    stats = cached_folder_features(
        cfg, network, root, files, what=f"{layer} peaks in {inside}", device=device,
        summarize=activation_summary(layer, inside),
    )  # fmt: skip
    channels = chosen_channels(cfg, stats["peak"].shape[1], layer)
    channels = channels or strongest_channels(stats["peak"], int(cfg.rows))
    rows = []
    for channel in channels:
        units = top_units(stats["peak"], stats["where"], stats["grid"], channel, int(cfg.k))
        tiles = [
            unit_patch(load_square(files[u.image], size), u, field, int(cfg.tile)) for u in units
        ]
        rows.append(figure_row(tiles, [f"{channel}: {u.value:.3g}" for u in units]))
    target = save(captioned_grid(rows, font_size=12), output_path(cfg.output, "patches.png"), cfg)
    print(f"patches: {layer}, receptive field {field.size} px (stride {field.jump}) → {target}")
    return [target]


def run_neighbors(cfg: DictConfig, device: torch.device) -> list[Path]:
    """Query photos beside their nearest photos by ``layer`` features and by pixels."""
    if cfg.metric not in METRICS:
        raise ConfigError(f"metric must be one of {', '.join(METRICS)}; got {cfg.metric!r}")
    root, files = folder_files(cfg)
    layer = layer_or_default(cfg, "relu5_4")
    network = network_from_cfg(cfg, [layer], device)
    summary = activation_summary(layer)
    stats = cached_folder_features(
        cfg, network, root, files, what=layer, summarize=summary, device=device
    )
    if cfg.image:
        query_files = [Path(str(cfg.image)).expanduser()]
        one_image(cfg, device)  # checks the file
        query = folder_features(network.features, query_files, summary, size=int(cfg.size),
                                device=device, progress=False)  # fmt: skip
    else:
        count = int(require_positive("queries", cfg.queries, allow_zero=False))
        picks = np.unique(np.linspace(0, len(files) - 1, min(count, len(files))).round())
        query_files = [files[int(i)] for i in picks]
        query = {key: stats[key][picks.astype(int)] for key in ("mean", "pixels")}
    k = min(int(require_positive("k", cfg.k, allow_zero=False)), len(files))
    by_features = nearest(query["mean"], stats["mean"], k, str(cfg.metric))
    by_pixels = nearest(query["pixels"], stats["pixels"], k, "euclidean")
    tile = int(cfg.tile)
    rows = []
    for q, path in enumerate(query_files):
        thumb = load_square(path, tile)
        for what, (index, dist) in ((layer, by_features), ("pixels", by_pixels)):
            tiles = [thumb] + [load_square(files[i], tile) for i in index[q]]
            rows.append(figure_row(tiles, [what] + [f"{d:.3g}" for d in dist[q]]))
    target = save(captioned_grid(rows), output_path(cfg.output, "neighbors.png"), cfg)
    print(
        f"neighbors: {len(query_files)} queries, {k} by {layer} ({cfg.metric}) and by pixels → {target}"
    )
    return [target]


def run_embed(cfg: DictConfig, device: torch.device) -> list[Path]:
    """A 2-D map of photos (by ``layer``), paintings (by Gram matrices) or a network's styles."""
    e = cfg.embed
    check_method(str(e.method))  # before the features are computed
    thumb = int(e.thumb)
    labels = None
    if e.of == "styles":
        if not cfg.model:
            raise ConfigError("embed.of=styles needs model= (a multi-style checkpoint)")
        net, info = load_transformer(str(cfg.model))
        vectors = style_codes(net).numpy()
        images = info.facts.get("style_images") or {}
        thumbs = [_style_thumb(Path(str(e.style_dir)) / str(images.get(s, "")), thumb)
                  for s in info.styles]  # fmt: skip
        labels, what = info.styles, f"(γ, β) of {cfg.model}"
    elif e.of in ("images", "paintings"):
        root, files = folder_files(cfg)
        if e.of == "images":
            layer = layer_or_default(cfg, "relu5_4")
            summary, key, what = activation_summary(layer), "mean", layer
            layers = [layer]
        else:
            layers = [str(x) for x in (cfg.layers or e.gram_layers)]
            summary, key, what = gram_summary(layers), "gram", f"Gram {'+'.join(layers)}"
        network = network_from_cfg(cfg, layers, device)
        stats = cached_folder_features(
            cfg, network, root, files, what=what, summarize=summary, device=device
        )
        vectors = stats[key]
        thumbs = [load_square(f, thumb) for f in files]
        labels = [f.stem for f in files] if e.of == "paintings" else None
    else:
        raise ConfigError(f"embed.of must be images, paintings or styles; got {e.of!r}")
    points = embed_2d(vectors, method=str(e.method), seed=int(cfg.seed or 0),
                      perplexity=float(e.perplexity))  # fmt: skip
    page = thumbnail_map(points, thumbs, canvas=int(e.canvas), labels=labels)
    target = save(page, output_path(cfg.output, "embed.png"), cfg)
    print(f"embed: {len(points)} {e.of} by {what}, {e.method} → {target}")
    return [target]


def _style_thumb(path: Path, side: int) -> torch.Tensor:
    """The style painting as a square thumbnail, or a grey square when it is not at hand."""
    if path.is_file():
        return load_square(path, side)
    return torch.full((3, side, side), 0.6)


RUNNERS = {
    "filters": run_filters,
    "activations": run_activations,
    "patches": run_patches,
    "neighbors": run_neighbors,
    "embed": run_embed,
}


def run(cfg: DictConfig) -> list[Path]:
    """Run ``cfg.method``; returns the pictures written."""
    if cfg.method not in RUNNERS:
        raise ConfigError(f"method must be one of {', '.join(METHODS)}; got {cfg.method!r}")
    require_positive("tile", cfg.tile, allow_zero=False)
    return RUNNERS[str(cfg.method)](cfg, device_from_cfg(cfg))


@command(config_path=config_dir(), config_name="inspect")
def main(cfg: DictConfig) -> None:
    exit_on_error(run, cfg)


if __name__ == "__main__":
    main()
