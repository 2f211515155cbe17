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
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort

from stylenet.contract import (
    FORMAT_KEY,
    FORMAT_VERSION,
    IMAGE_INPUT,
    LAYER_PLAN_KEY,
    LAYERS_KEY,
    MIN_IMAGE_SIDE,
    OUTPUT,
    READABLE_VERSIONS,
    STATISTICS_GRAPH_KEY,
    STATISTICS_INPUT,
    STATISTICS_OUTPUT,
    STYLES_KEY,
    WEIGHTS_INPUT,
    LayerSpec,
    facts_from_metadata,
    layer_conv,
    layer_scale,
    layer_shift,
    layer_window,
    parse_layer_plan,
    parse_layers_reference,
    statistics_channels_from_metadata,
)
from stylenet.data.digest import file_sha256
from stylenet.errors import ConfigError, ModelFileError
from stylenet.serve.layerwise import layerwise_rows
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
    """The statistics layout of a graph with statistics I/O (a statistics graph, or a format-2/3
    model, which has them itself), ``None`` without (formats 1 and 4)."""
    # an input with a default (formats 2 and 3) is listed among the overridable initializers
    inputs = {i.name for i in [*session.get_inputs(), *session.get_overridable_initializers()]}
    outputs = {o.name for o in session.get_outputs()}
    if STATISTICS_INPUT not in inputs or STATISTICS_OUTPUT not in outputs:
        return None
    return statistics_channels_from_metadata(metadata)


def tiling_file(model_path: Path, reference: str | None, key: str) -> tuple[Path, str] | None:
    """``(path, sha256)`` of the tiling graph a model's metadata ``key`` names (``None`` when
    it names none); a malformed reference raises :class:`ModelFileError`."""
    if reference is None:
        return None
    try:
        name, digest = parse_layers_reference(reference, key)
    except ValueError as error:
        raise ModelFileError(f"{model_path}: {error}; re-export it") from error
    return model_path.parent / name, digest


def checked_tiling_path(
    model_path: Path, reference: str, key: str, *, what: str, fallback: str
) -> Path:
    """The tiling graph that metadata ``key`` (value ``reference``) of the model at
    ``model_path`` names, checked against its sha256: a missing file or one from another
    export raises :class:`ModelFileError` naming ``what`` it is and the ``fallback`` setting."""
    found = tiling_file(model_path, reference, key)
    assert found is not None
    path, digest = found
    if not path.is_file():
        raise ModelFileError(
            f"{model_path.name} tiles with its {what} {path.relative_to(model_path.parent)}, "
            f"which is not in {model_path.parent}: copy it there or use {fallback}"
        )
    if file_sha256(path) != digest:
        raise ModelFileError(
            f"{path} is not the {what} {model_path.name} was exported with (sha256 differs): "
            "copy the matching file or re-export the model"
        )
    return path


class OnnxStylizer:
    """Runs an exported stylenet ONNX model; implements the ``Stylizer`` protocol.

    The model itself runs every call without ``statistics``; shared statistics run on its
    statistics graph (``tiling/x.statistics.onnx``, opened on first use; format-2/3 models
    have the statistics I/O themselves), layer-by-layer tiling on its layer graphs.

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
        self.provider = self.session.get_providers()[0]
        self._session_settings = (list(self.session.get_providers()), options)
        own = shared_statistics_layout(self.session, metadata)  # formats 2 and 3
        self._statistics_session: ort.InferenceSession | None = self.session if own else None
        self._statistics_reference = None if own else metadata.get(STATISTICS_GRAPH_KEY)
        self._statistics_layout = own
        if self._statistics_reference is not None:
            self._statistics_layout = statistics_channels_from_metadata(metadata)
        self._layers_reference = metadata.get(LAYERS_KEY)
        self._layers: OnnxLayers | None = None
        self._warned: set[str] = set()
        log.info("ONNX Runtime runs %s on %s", self.path.name, self.provider)

    @property
    def statistics_channels(self) -> list[int] | None:
        """The packed statistics layout when the model can take and report shared statistics
        (:mod:`stylenet.serve.shared_statistics`), else ``None``: format-1 models, and models
        whose statistics graph was not copied with them (with a warning: tiles then use their
        own statistics)."""
        if self._statistics_session is not None or self._statistics_layout is None:
            return self._statistics_layout
        if self._tiling_file_present(self._statistics_reference, STATISTICS_GRAPH_KEY):
            return self._statistics_layout
        return None

    @property
    def has_layers(self) -> bool:
        """Whether the model names layer graphs (format 3 and 4) and their file is where it
        says, so it can tile layer by layer (``tile_statistics=auto`` falls back to calibrated
        statistics, with a warning, when the file was not copied with the model)."""
        return self._tiling_file_present(self._layers_reference, LAYERS_KEY)

    def _tiling_file_present(self, reference: str | None, key: str) -> bool:
        """Whether the tiling graph named by ``reference`` exists (a malformed reference
        counts as present: opening it says what is wrong); warns once per missing file."""
        if reference is None:
            return False
        try:
            found = tiling_file(self.path, reference, key)
        except ModelFileError:
            return True
        assert found is not None
        if found[0].is_file():
            return True
        if key not in self._warned:
            self._warned.add(key)
            name = found[0].relative_to(self.path.parent)
            if key == LAYERS_KEY:
                instead = "tiles use calibrated statistics instead"
            else:
                instead = "tiles use their own statistics instead"
            log.warning(
                "%s tiles with %s, which is not in %s: %s (copy the file there for seamless tiles)",
                self.path.name,
                name,
                self.path.parent,
                instead,
            )
        return False

    def layers(self) -> OnnxLayers:
        """The model's layer graphs (loaded and checked on first use)."""
        if self._layers is None:
            if self._layers_reference is None:
                raise ConfigError(
                    f"{self.path.name} has no layer graphs (a format-1/2 export): re-export it "
                    "with stylenet-export, or use tile_statistics=calibrated"
                )
            providers, options = self._session_settings
            self._layers = OnnxLayers.from_reference(
                self.path, self._layers_reference, self.styles, providers, options
            )
        return self._layers

    def statistics_session(self) -> ort.InferenceSession:
        """The session that takes and reports statistics: the statistics graph (opened and
        checked on first use) or, for format-2/3 models, the model's own session."""
        if self._statistics_session is not None:
            return self._statistics_session
        if self._statistics_reference is None or self._statistics_layout is None:
            raise ModelFileError(
                f"{self.path} has no shared-statistics graph (a format-1 model, or a network "
                "without instance norm); re-export it with stylenet-export, or tile with "
                "tile_statistics=tile"
            )
        path = checked_tiling_path(
            self.path,
            self._statistics_reference,
            STATISTICS_GRAPH_KEY,
            what="statistics graph",
            fallback="tile_statistics=tile",
        )
        session = open_session(path, *self._session_settings)
        names = {i.name for i in session.get_inputs()}
        outputs = {o.name for o in session.get_outputs()}
        if STATISTICS_INPUT not in names or STATISTICS_OUTPUT not in outputs:
            raise ModelFileError(
                f"{path} lacks the {STATISTICS_INPUT!r} input or {STATISTICS_OUTPUT!r} output "
                "of a statistics graph; re-export the model"
            )
        self._statistics_session = session
        return session

    def layerwise_rows(
        self, images: np.ndarray, style_weights: np.ndarray | None = None, *, tile: int
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``N×3×H×W`` [0, 255] (uint8 or float32) → ``(y, N×3×h×W float32 rows)`` of the
        stylized picture from the top, the network run layer by layer over tiles of at most
        ``tile`` px on the layer graphs (:mod:`stylenet.serve.layerwise`): a single pass's
        output in a tile's memory."""
        layers = self.layers()
        weights = weight_rows(style_weights, self.styles, images.shape[0])
        return layerwise_rows(layers, images, weights if self.takes_weights else None, tile=tile)

    def __call__(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None = None,
        *,
        statistics: np.ndarray | None = None,
    ) -> np.ndarray:
        """``N×3×H×W`` float32 [0, 255] (+ ``N×S`` or ``1×S`` blend rows) → ``N×3×H×W``
        float32 [0, 255]. ``statistics``: packed ``N×K`` (or ``1×K``) instance-norm statistics
        to normalise with (models with a statistics graph; see :meth:`statistics`), ``None`` =
        each image's own (the model itself runs)."""
        feed = self._feed(images, style_weights)
        if statistics is None or self.statistics_channels is None:
            (out,) = self.session.run([OUTPUT], feed)
            return out
        feed[STATISTICS_INPUT] = np.ascontiguousarray(statistics, dtype=np.float32)
        (out,) = self.statistics_session().run([OUTPUT], feed)
        return out

    def statistics(
        self,
        images: np.ndarray,
        style_weights: np.ndarray | None = None,
        *,
        statistics: np.ndarray | None = None,
    ) -> np.ndarray:
        """Packed ``N×K`` instance-norm statistics of ``images`` (normalised with
        ``statistics`` when given, else each image's own). Models with a statistics graph
        only (``statistics_channels`` not None)."""
        channels = self.statistics_channels
        if channels is None:
            raise ModelFileError(
                f"{self.path} has no shared-statistics graph beside it (a format-1 model, or "
                "its tiling/ folder was not copied); re-export it with stylenet-export"
            )
        feed = self._feed(images, style_weights)
        if statistics is None:
            statistics = np.full((1, 2 * sum(channels)), np.nan, dtype=np.float32)
        feed[STATISTICS_INPUT] = np.ascontiguousarray(statistics, dtype=np.float32)
        (observed,) = self.statistics_session().run([STATISTICS_OUTPUT], feed)
        return observed

    def _feed(self, images: np.ndarray, style_weights: np.ndarray | None) -> dict[str, np.ndarray]:
        batch = check_batch(images, MIN_IMAGE_SIDE)
        feed = {IMAGE_INPUT: batch}
        weights = weight_rows(style_weights, self.styles, batch.shape[0])
        if self.takes_weights:
            feed[WEIGHTS_INPUT] = weights
        return feed


class OnnxLayers:
    """A model's layer graphs on ONNX Runtime: the :class:`stylenet.serve.layerwise.Layers`
    of an exported model.

    One session serves all layers: each call feeds the layer's window and, to every other
    layer, the smallest window of zeros (format-3 files had those as input defaults)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        providers: Sequence[str] | None = None,
        options: ort.SessionOptions | None = None,
        *,
        styles: list[str] | None = None,
    ) -> None:
        self.path = Path(path).expanduser()
        chosen = list(providers) if providers else choose_providers(None)
        self.session = open_session(self.path, chosen, options or session_options())
        metadata = dict(self.session.get_modelmeta().custom_metadata_map)
        if LAYER_PLAN_KEY not in metadata:
            raise ModelFileError(
                f"{self.path} has no {LAYER_PLAN_KEY} metadata: not a stylenet layer graphs "
                "file; re-export the model with stylenet-export"
            )
        try:
            self.plan: list[LayerSpec] = parse_layer_plan(metadata[LAYER_PLAN_KEY])
        except ValueError as error:
            raise ModelFileError(f"{self.path}: {error}; re-export the model") from error
        self.styles = read_styles(self.path, metadata)
        if styles is not None and self.styles != list(styles):
            raise ModelFileError(
                f"{self.path} holds the layers of styles {self.styles}, not {styles}: it belongs "
                "to another model; re-export the model"
            )
        names = {
            i.name
            for i in [*self.session.get_inputs(), *self.session.get_overridable_initializers()]
        }
        outputs = {o.name for o in self.session.get_outputs()}
        for index, spec in enumerate(self.plan):
            wanted = [layer_conv(index)]
            if spec.norm is not None:
                wanted += [layer_scale(index), layer_shift(index)]
            if layer_window(index) not in names or not set(wanted) <= outputs:
                raise ModelFileError(
                    f"{self.path} lacks the inputs/outputs of layer {index}; re-export the model"
                )
        self.takes_weights = WEIGHTS_INPUT in names
        self._idle: dict[int, dict[str, np.ndarray]] = {}
        count = len(self.styles)
        self._uniform = np.full((1, count), 1.0 / count, dtype=np.float32)

    @classmethod
    def from_reference(
        cls,
        model_path: Path,
        reference: str,
        styles: list[str],
        providers: Sequence[str] | None = None,
        options: ort.SessionOptions | None = None,
    ) -> OnnxLayers:
        """The layer graphs a model's ``stylenet.layers`` metadata names, checked against its
        sha256 (a file from another export is refused)."""
        path = checked_tiling_path(
            model_path,
            reference,
            LAYERS_KEY,
            what="layer graphs",
            fallback="tile_statistics=calibrated",
        )
        return cls(path, providers, options, styles=styles)

    def idle_feed(self, batch: int = 1) -> dict[str, np.ndarray]:
        """Every input of the layer graphs for ``batch`` images at its smallest: one-pixel-
        output windows of zeros and uniform style weights (a call replaces what it needs)."""
        if batch not in self._idle:
            feed = {
                layer_window(index): np.zeros(
                    (batch, spec.in_channels, spec.kernel, spec.kernel), dtype=np.float32
                )
                for index, spec in enumerate(self.plan)
            }
            if self.takes_weights:
                feed[WEIGHTS_INPUT] = np.ascontiguousarray(
                    np.broadcast_to(self._uniform, (batch, len(self.styles)))
                )
            self._idle[batch] = feed
        return dict(self._idle[batch])

    def convolve(self, index: int, window: np.ndarray) -> np.ndarray:
        """Layer ``index``'s convolution of ``window`` (``N×C×h×w`` float32)."""
        feed = self.idle_feed(window.shape[0])
        feed[layer_window(index)] = window
        (out,) = self.session.run([layer_conv(index)], feed)
        return out

    def affine(self, index: int, style_weights: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Layer ``index``'s ``(scale, shift)`` (``N×C`` or ``1×C``; ``style_weights``
        ``None`` = the uniform blend)."""
        weights = None
        if self.takes_weights and style_weights is not None:
            weights = np.ascontiguousarray(style_weights, dtype=np.float32)
        feed = self.idle_feed(1 if weights is None else weights.shape[0])
        if weights is not None:
            feed[WEIGHTS_INPUT] = weights
        scale, shift = self.session.run([layer_scale(index), layer_shift(index)], feed)
        return scale, shift
