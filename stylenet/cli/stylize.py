"""``stylenet-stylize``: stylize images, folders, globs and videos with a checkpoint or ONNX model."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import numpy as np
from omegaconf import DictConfig
from tqdm import tqdm

from stylenet import options
from stylenet.cli.app import PAINTING_ALIAS, command
from stylenet.cli.config import config_dir
from stylenet.cli.errors import EXIT_PARTIAL, exit_on_error
from stylenet.cli.inputs import Job, find_inputs, plan_jobs
from stylenet.cli.paths import run_dir
from stylenet.cli.values import plain
from stylenet.data.image_files import read_array, write_image
from stylenet.data.video_files import is_video_file
from stylenet.errors import ConfigError, StylenetError
from stylenet.extras import require_video_extra
from stylenet.serve.blend import choose_weights, interpolation_grid, parse_blend
from stylenet.serve.figure import blend_grid_figure
from stylenet.serve.loader import describe_shipped, load_stylizer, shipped_models
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.shared_statistics import DEFAULT_MODE
from stylenet.serve.stylizer import Stylizer

log = logging.getLogger(__name__)


def validate(cfg: DictConfig) -> None:
    """Plain option checks, before any model or image is opened."""
    options.number("strength", cfg.strength, low=0, high=1)
    options.side("size", cfg.size)
    options.number("temporal", cfg.temporal, low=0, high=1)
    options.number("quality", cfg.quality, low=1, high=100, integer=True)
    options.number("tile_size", cfg.tile_size, low=-1, integer=True)
    options.number("tile_overlap", cfg.tile_overlap, low=0, integer=True)
    options.number("tile_calibration", cfg.tile_calibration, low=0, high=1, low_open=True)
    options.number("grid_size", cfg.grid_size, low=2, integer=True)
    for name in ("preserve_color", "list"):
        options.boolean(name, cfg[name])
    options.string_list("providers", cfg.providers)
    options.number("painting_size", cfg.get("painting_size", 512), low=64, high=1024, integer=True)
    if not cfg.list and not cfg.input:
        raise ConfigError("input= is required: an image, a folder, a glob or a video")


def run(cfg: DictConfig) -> list[Path]:
    """Stylize ``cfg.input`` as configured; returns the written files (or ``[]`` for ``list``)."""
    validate(cfg)
    painting = cfg.get("painting_file")
    if cfg.model is None and painting is None:
        if not cfg.list:
            raise ConfigError(
                "model= or painting= is required: a shipped name (list=true shows them), "
                ".ckpt or .onnx, or any painting for the arbitrary-style network"
            )
        print("\n".join(map(describe_shipped, shipped_models())) or "no shipped models installed")
        return []
    if not cfg.list and is_video_file(str(cfg.input)):  # before the model loads
        require_video_extra(f"stylizing the video {Path(str(cfg.input)).name}")
    stylizer = load_stylizer(
        None if cfg.model is None else str(cfg.model),
        device=str(cfg.device),
        precision=str(cfg.precision),
        providers=options.string_list("providers", cfg.providers),
        painting=None if painting is None else str(painting),
        painting_size=int(cfg.get("painting_size", 512)),
        transform=str(cfg.get("transform", "wct")),
    )
    if cfg.list:
        print("\n".join(stylizer.styles))
        return []
    weights = choose_weights(stylizer.styles, cfg.style, parse_blend(plain(cfg.blend)))
    sources, root = find_inputs(str(cfg.input))
    if cfg.grid is not None:
        return [write_grid(cfg, stylizer, sources[0])]
    output = Path(cfg.output).expanduser() if cfg.output else None
    jobs = plan_jobs(sources, root, output, default_dir=run_dir())
    return stylize_all(cfg, stylizer, weights, jobs)


def stylize_all(
    cfg: DictConfig, stylizer: Stylizer, weights: np.ndarray | None, jobs: list[Job]
) -> list[Path]:
    """Run every job; a failing file in a batch is reported and skipped, never fatal."""
    written, failures = [], []
    # no bar when stderr is not a terminal; it is cleared before any summary or error line
    bar = tqdm(
        jobs, desc="stylizing", unit="file", leave=False, disable=True if len(jobs) < 2 else None
    )
    for job in bar:
        try:
            written.append(stylize_one(cfg, stylizer, weights, job))
        except StylenetError as error:
            if len(jobs) == 1:
                raise
            failures.append(f"{job.source}: {error}")
            log.warning("skipped %s", failures[-1])
    bar.close()
    if not written:
        raise StylenetError(f"none of the {len(jobs)} inputs could be stylized: {failures[0]}")
    if failures:
        print(
            f"stylized {len(written)} of {len(jobs)} files; {len(failures)} failed:",
            file=sys.stderr,
        )
        print("\n".join(f"  {line}" for line in failures), file=sys.stderr)
        return Written(written, failures=failures)
    return written


class Written(list):
    """The files written by a batch run, and the inputs that failed (exit status 3)."""

    def __init__(self, files: list[Path], *, failures: list[str]) -> None:
        super().__init__(files)
        self.failures = failures


def stylize_one(cfg: DictConfig, stylizer: Stylizer, weights: np.ndarray | None, job: Job) -> Path:
    """One image or video → its destination."""
    if is_video_file(job.source):
        require_video_extra(f"stylizing the video {job.source.name}")
        from stylenet.serve.video import stylize_video  # OpenCV: only for videos

        return stylize_video(
            stylizer,
            job.source,
            job.destination,
            style_weights=weights,
            size=None if cfg.size is None else int(cfg.size),
            preserve_color=bool(cfg.preserve_color),
            strength=float(cfg.strength),
            temporal=float(cfg.temporal),
        )
    image = read_array(job.source, max_side=None if cfg.size is None else int(cfg.size))
    result = stylize_array(
        stylizer,
        image,
        style_weights=weights,
        preserve_color=bool(cfg.preserve_color),
        strength=float(cfg.strength),
        tile_size=int(cfg.tile_size),
        tile_overlap=int(cfg.tile_overlap),
        tile_statistics=str(cfg.get("tile_statistics", DEFAULT_MODE)),
        tile_calibration=float(cfg.tile_calibration),
    )
    return write_image(result, job.destination, quality=int(cfg.quality))


def write_grid(cfg: DictConfig, stylizer: Stylizer, source: Path) -> Path:
    """The interpolation figure of Dumoulin et al. (2017) for one photo, corners captioned."""
    grid = plain(cfg.grid)
    corners = grid if isinstance(grid, list) else [grid]
    weights = interpolation_grid(stylizer.styles, [str(c) for c in corners], int(cfg.grid_size))
    image = read_array(source, max_side=int(cfg.size) if cfg.size is not None else 256)
    figure = blend_grid_figure(stylizer, image, weights, preserve_color=bool(cfg.preserve_color))
    target = Path(cfg.output).expanduser() if cfg.output else run_dir() / "blend_grid.jpg"
    return write_image(figure, target, quality=int(cfg.quality))


@command(config_path=config_dir(), config_name="stylize", aliases=PAINTING_ALIAS)
def main(cfg: DictConfig) -> None:
    written = exit_on_error(run, cfg)
    for path in written:
        print(f"wrote {path}")
    if getattr(written, "failures", None):
        raise SystemExit(EXIT_PARTIAL)


if __name__ == "__main__":
    main()
