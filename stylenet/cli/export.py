"""``stylenet-export model=CKPT out=PATH.onnx``: export a checkpoint to ONNX with model cards."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from omegaconf import DictConfig, ListConfig

from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.paths import output_path

if TYPE_CHECKING:
    from stylenet.export.bundle import ExportedFile


def _variants(value: object) -> list[str]:
    if isinstance(value, (ListConfig, list, tuple)):
        return [str(v) for v in value]
    return [str(value)]


def run(cfg: DictConfig) -> list[ExportedFile]:
    """Export ``cfg.model`` to ``cfg.out`` (+ variants); returns what was written."""
    # deferred: torch and ONNX load only to export, not for --help or a command-line error
    from stylenet.export.bundle import export_bundle
    from stylenet.nn.checkpoint import load_transformer

    num_calibration = int(require_positive("num_calibration", cfg.num_calibration, False))
    net, info = load_transformer(cfg.model)
    target = output_path(cfg.out, f"{Path(str(cfg.model)).stem}.onnx")
    calibration = None if cfg.calibration is None else str(cfg.calibration)
    files = export_bundle(net, info, target, _variants(cfg.variants), calibration, num_calibration)
    for file in files:
        print(
            f"wrote {file.path} ({file.variant}; max |diff| vs PyTorch "
            f"{file.max_abs_diff:.3g} on 0–255) and {file.card.name}"
        )
    return files


@command(config_path=config_dir(), config_name="export")
def main(cfg: DictConfig) -> None:
    exit_on_error(run, cfg)


if __name__ == "__main__":
    main()
