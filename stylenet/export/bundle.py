"""Export a network as every requested variant, check each against PyTorch, write each card."""

from __future__ import annotations

import contextlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from stylenet.contract import TILING_FOLDER, layers_file_name, statistics_file_name
from stylenet.data.atomic import check_writable
from stylenet.errors import ConfigError
from stylenet.export.calibration import ImageCalibrationReader
from stylenet.export.card import Parity, card_path, model_card, write_card
from stylenet.export.onnx import (
    FP32_TOLERANCE,
    PARITY_BATCHES,
    PARITY_SIZES,
    check_tolerance,
    export_onnx,
    parity_stats,
)
from stylenet.export.variants import check_variants, variant_path, write_variant
from stylenet.nn.checkpoint import ModelInfo
from stylenet.nn.transformer import TransformerNet

log = logging.getLogger(__name__)

# Max |PyTorch fp32 - variant| allowed on the 0–255 scale. fp16 keeps ~3 decimal digits: two
# 8-bit levels. INT8 errors are a few levels on average (recorded in the card as the mean) with
# rare larger outliers; its bound only catches a broken quantization.
TOLERANCES = {"fp32": FP32_TOLERANCE, "fp16": 2.0, "int8": 64.0}


@dataclass
class ExportedFile:
    """One written model, its card and how it compared with PyTorch."""

    variant: str
    path: Path
    card: Path
    max_abs_diff: float
    mean_abs_diff: float


def export_bundle(
    net: TransformerNet,
    info: ModelInfo,
    path: str | os.PathLike[str],
    variants: list[str] | None = None,
    calibration: str | os.PathLike[str] | None = None,
    num_calibration: int = 32,
) -> list[ExportedFile]:
    """Write ``path`` (fp32) and the other ``variants`` (``model.fp16.onnx``,
    ``model.int8.onnx``), each with a model card and its tiling graphs in ``tiling/``; INT8
    calibrates on ``num_calibration``
    photos from the ``calibration`` folder, or synthetic images when it is ``None``."""
    target = Path(path).expanduser()
    if target.suffix.lower() != ".onnx":
        raise ConfigError(f"out must end in .onnx, got {str(path)!r}")
    chosen = check_variants(list(variants or ["fp32"]))
    reader = None
    if "int8" in chosen:  # validate the folder before the slow export
        reader = ImageCalibrationReader(
            calibration, num_calibration, net.num_styles, net.is_multi_style
        )
    check_writable(target)  # before the slow export
    written: list[Path] = []
    try:
        for file in (target, layers_file_name(target.name)):
            written.append(target.parent / file)
        export_onnx(net, info, target)
        files = []
        for variant in chosen:
            file = variant_path(target, variant)
            written.extend([file, card_path(file)])
            written.append(target.parent / statistics_file_name(file.name))
            if variant != "fp32":
                write_variant(target, file, variant, reader)
            files.append(_check_and_describe(net, info, file, variant))
    except BaseException:  # a failed variant (or SIGTERM) leaves no part of the bundle
        for file in written:
            file.unlink(missing_ok=True)
        _remove_if_empty(target.parent / TILING_FOLDER)
        raise
    return files


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):  # absent, or holds other models' tiling graphs
        folder.rmdir()


def _check_and_describe(
    net: TransformerNet, info: ModelInfo, file: Path, variant: str
) -> ExportedFile:
    """Parity against PyTorch (raises above the variant's tolerance), then the model card."""
    worst, mean = parity_stats(net, file)
    check_tolerance(file, worst, TOLERANCES[variant])
    parity = Parity(
        worst,
        mean,
        TOLERANCES[variant],
        [list(size) for size in PARITY_SIZES],
        list(PARITY_BATCHES),
    )
    write_card(model_card(file, info, dict(net.config), variant, parity), file)
    log.info("%s: %s, max |diff| %.4g, mean %.4g", variant, file, worst, mean)
    return ExportedFile(variant, file, card_path(file), worst, mean)
