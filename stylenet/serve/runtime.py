"""A :class:`~stylenet.serve.stylizer.Stylizer` running an exported model with ONNX Runtime.

Execution providers: TensorRT > CUDA > CPU among those the installed ``onnxruntime`` build
offers (``onnxruntime-gpu`` for the GPU ones), or exactly the ``providers`` asked for. The
TensorRT and CUDA paths are written to ONNX Runtime's documented provider names and options
but untested here (no GPU on the development machines).
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from stylenet.errors import ConfigError, ModelFileError
from stylenet.export.contract import (
    FORMAT_KEY,
    FORMAT_VERSION,
    IMAGE_INPUT,
    MIN_IMAGE_SIDE,
    OUTPUT,
    READABLE_VERSIONS,
    STATISTICS_INPUT,
    STATISTICS_OUTPUT,
    STYLES_KEY,
    WEIGHTS_INPUT,
    facts_from_metadata,
    statistics_channels_from_metadata,
)
from stylenet.serve.stylizer import check_batch, weight_rows

log = logging.getLogger(__name__)

PREFERRED_PROVIDERS = (
    "TensorrtExecutionProvider",
    "CUDAExecutionProvider",
    "CPUExecutionProvider",
)
_OPTIMIZATION_LEVELS = {
    "disable": ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    "basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    "extended": ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


def choose_providers(requested: Sequence[str] | None = None) -> list[str]:
    """``requested`` (each must be available), else the best available: TensorRT > CUDA > CPU.

    Untested here: the TensorRT and CUDA choices (they need ``onnxruntime-gpu`` and a GPU).
    """
    available = ort.get_available_providers()
    if requested:
        missing = [p for p in requested if p not in available]
        if missing:
            raise ConfigError(
                f"ONNX Runtime provider(s) {missing} not available; this build offers "
                f"{available} (install onnxruntime-gpu for CUDA/TensorRT)"
            )
        return list(requested)
    return [p for p in PREFERRED_PROVIDERS if p in available]


def session_options(
    intra_op_threads: int = 0, optimization: str = "all", spinning: bool = True
) -> ort.SessionOptions:
    """Session options: ``intra_op_threads`` (0 = ONNX Runtime's default, one per core), the
    graph ``optimization`` level (``disable`` | ``basic`` | ``extended`` | ``all``) and whether
    idle worker threads spin (lowest latency on dedicated cores; turn off on shared CPUs)."""
    if optimization not in _OPTIMIZATION_LEVELS:
        raise ConfigError(
            f"optimization must be one of {list(_OPTIMIZATION_LEVELS)}, got {optimization!r}"
        )
    if intra_op_threads < 0:
        raise ConfigError(f"intra_op_threads must be >= 0, got {intra_op_threads}")
    options = ort.SessionOptions()
    # errors only: format-2 models' optional ``statistics`` input is an initializer listed as
    # a graph input (ONNX's input default), which ONNX Runtime reports as a warning on load
    options.log_severity_level = 3
    options.intra_op_num_threads = int(intra_op_threads)
    options.graph_optimization_level = _OPTIMIZATION_LEVELS[optimization]
    options.add_session_config_entry("session.intra_op.allow_spinning", "1" if spinning else "0")
    return options


def open_session(
    path: Path, providers: list[str], options: ort.SessionOptions
) -> ort.InferenceSession:
    """An inference session; missing, empty or unparsable files raise :class:`ModelFileError`."""
    if not path.is_file():
        raise ModelFileError(f"ONNX model not found: {path} (check the path)")
    if path.stat().st_size == 0:
        raise ModelFileError(f"ONNX model file is empty: {path}; export it again")
    try:
        return ort.InferenceSession(str(path), sess_options=options, providers=providers)
    except Exception as error:  # ONNX Runtime raises its own pybind exception types
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise ModelFileError(
            f"cannot load ONNX model {path}: {first}; re-export it with stylenet-export"
        ) from error


def read_styles(path: Path, metadata: dict[str, str]) -> list[str]:
    """The style names from ``stylenet.styles``; checks the format version."""
    if STYLES_KEY not in metadata:
        raise ModelFileError(
            f"{path} has no {STYLES_KEY} metadata: not a stylenet model; export it with "
            "stylenet-export"
        )
    try:
        styles = json.loads(metadata[STYLES_KEY])
    except json.JSONDecodeError:
        styles = None
    if not isinstance(styles, list) or not styles:
        raise ModelFileError(f"{path}: {STYLES_KEY} must be a non-empty JSON list of names")
    version = metadata.get(FORMAT_KEY, "")
    if not version.isdigit() or int(version) not in READABLE_VERSIONS:
        raise ModelFileError(
            f"{path} has model format {version!r}; this stylenet reads formats "
            f"{list(READABLE_VERSIONS)} (writes {FORMAT_VERSION}): upgrade stylenet or "
            "re-export the model"
        )
    return [str(s) for s in styles]


def check_io(path: Path, session: ort.InferenceSession, num_styles: int) -> bool:
    """Check the input/output names of the contract; True if it takes ``style_weights``."""
    inputs = [i.name for i in session.get_inputs() if i.name != STATISTICS_INPUT]
    outputs = [o.name for o in session.get_outputs()]
    expected = [IMAGE_INPUT, WEIGHTS_INPUT] if num_styles > 1 else [IMAGE_INPUT]
    if inputs not in (expected, [IMAGE_INPUT, WEIGHTS_INPUT]) or outputs[:1] != [OUTPUT]:
        raise ModelFileError(
            f"{path} has inputs {inputs} and outputs {outputs}; a stylenet model takes "
            f"{expected} and returns [{OUTPUT!r}]: re-export it with stylenet-export"
        )
    return len(inputs) == 2


def check_output_size(
    path: Path, session: ort.InferenceSession, takes_weights: bool, num_styles: int
) -> None:
    """Run one small non-square image; the contract says the output has the input's shape."""
    height, width = MIN_IMAGE_SIDE + 2, MIN_IMAGE_SIDE + 5  # not a multiple of the strides
    feed: dict[str, np.ndarray] = {
        IMAGE_INPUT: np.full((1, 3, height, width), 128.0, dtype=np.float32)
    }
    if takes_weights:
        feed[WEIGHTS_INPUT] = np.eye(1, num_styles, dtype=np.float32)
    try:
        (out,) = session.run([OUTPUT], feed)
    except Exception as error:  # ONNX Runtime raises its own pybind exception types
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise ModelFileError(
            f"{path} fails on a {height}×{width} test image ({first}); re-export it with "
            "stylenet-export"
        ) from error
    if out.shape != (1, 3, height, width) or out.dtype != np.float32:
        raise ModelFileError(
            f"{path} breaks the model contract: a 1×3×{height}×{width} image gave "
            f"{out.dtype} {'×'.join(map(str, out.shape))} (the output must be float32 of the "
            "input's size); re-export it with stylenet-export"
        )


def shared_statistics_layout(
    session: ort.InferenceSession, metadata: dict[str, str]
) -> list[int] | None:
    """The statistics layout of a format-2 model, ``None`` for format 1 (no statistics I/O)."""
    # an input with a default is listed among the overridable initializers, not the inputs
    inputs = {i.name for i in [*session.get_inputs(), *session.get_overridable_initializers()]}
    outputs = {o.name for o in session.get_outputs()}
    if STATISTICS_INPUT not in inputs or STATISTICS_OUTPUT not in outputs:
        return None
    return statistics_channels_from_metadata(metadata)


class OnnxStylizer:
    """Runs an exported stylenet ONNX model; implements the ``Stylizer`` protocol.

    Args:
        path: the ``.onnx`` file.
        providers: ONNX Runtime execution providers in priority order; ``None`` = the best
            available (TensorRT > CUDA > CPU; the GPU ones are untested here).
        intra_op_threads: threads per operator (0 = ONNX Runtime's default).
        optimization: graph optimisation level (see :func:`session_options`).
        spinning: let idle worker threads spin (``False`` on CPUs shared with other work).
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        providers: Sequence[str] | None = None,
        intra_op_threads: int = 0,
        optimization: str = "all",
        spinning: bool = True,
    ) -> None:
        self.path = Path(path).expanduser()
        options = session_options(intra_op_threads, optimization, spinning)
        self.session = open_session(self.path, choose_providers(providers), options)
        metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        self.styles = read_styles(self.path, metadata)
        self.facts: dict[str, Any] = facts_from_metadata(metadata)
        self.takes_weights = check_io(self.path, self.session, len(self.styles))
        check_output_size(self.path, self.session, self.takes_weights, len(self.styles))
        self.statistics_channels = shared_statistics_layout(self.session, metadata)
        self.provider = self.session.get_providers()[0]
        log.info("ONNX Runtime runs %s on %s", self.path.name, self.provider)

    def __call__(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None = None,
        *,
        statistics: np.ndarray | None = None,
    ) -> np.ndarray:
        """``N×3×H×W`` float32 [0, 255] (+ ``N×S`` or ``1×S`` blend rows) → ``N×3×H×W``
        float32 [0, 255]. ``statistics``: packed ``N×K`` (or ``1×K``) instance-norm statistics
        to normalise with (format-2 models; see :meth:`statistics`), ``None`` = each image's
        own."""
        (out,) = self.session.run([OUTPUT], self._feed(images, style_weights, statistics))
        return out

    def statistics(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None = None,
        *,
        statistics: np.ndarray | None = None,
    ) -> np.ndarray:
        """Packed ``N×K`` instance-norm statistics of ``images`` (normalised with
        ``statistics`` when given). Format-2 models only (``statistics_channels`` not None)."""
        if self.statistics_channels is None:
            raise ModelFileError(
                f"{self.path} is a format-1 model without shared statistics; re-export it "
                "with stylenet-export"
            )
        feed = self._feed(images, style_weights, statistics)
        (observed,) = self.session.run([STATISTICS_OUTPUT], feed)
        return observed

    def _feed(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None,
        statistics: np.ndarray | None,
    ) -> dict[str, np.ndarray]:
        batch = check_batch(images, MIN_IMAGE_SIDE)
        feed = {IMAGE_INPUT: batch}
        weights = weight_rows(style_weights, self.styles, batch.shape[0])
        if self.takes_weights:
            feed[WEIGHTS_INPUT] = weights
        if statistics is not None and self.statistics_channels is not None:
            feed[STATISTICS_INPUT] = np.ascontiguousarray(statistics, dtype=np.float32)
        return feed
