"""Arbitrary style transfer with ONNX Runtime: any painting, no training (torch-free).

Universal style transfer (Li et al. 2017) on a distilled encoder (Wang et al. 2020): the
photo is encoded (``encoder.onnx``), its features are moved to the painting's feature
statistics in NumPy (:func:`stylenet.serve.wct.transfer`: WCT, or AdaIN as the cheap mode)
and decoded (``decoder.onnx``). A painting's statistics are computed once and cached by the
digest of its pixels, so video frames and webcam frames pay only encode, transform, decode.

- :class:`ArbitraryNetwork`: the two sessions, the painting cache;
- :class:`PaintingStylizer`: one painting (and strength) bound to a network, a
  :class:`~stylenet.serve.stylizer.Stylizer` like any shipped model; big photos tile in two
  passes (:meth:`PaintingStylizer.layerwise_rows`): the first sums every tile's feature
  moments into the whole photo's, the second transforms every tile with them, so tiles
  share the statistics of the whole image and the result matches a single pass.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image
from threadpoolctl import ThreadpoolController

from stylenet.arbitrary_contract import (
    CARD_FILE,
    CONFIG_KEY,
    DECODER_FILE,
    ENCODER_FILE,
    FEATURES,
    IMAGE,
    KIND,
    KIND_KEY,
    MIN_PAINTING_SIDE,
    PAINTING_MAX_SIDE,
    SHIPPED_NAME,
    SIZE_MULTIPLE,
    STYLIZED,
)
from stylenet.data.image_files import check_rgb_array, open_image, resize_array
from stylenet.errors import ConfigError, ImageError, ModelFileError
from stylenet.resources import shipped_models_dir
from stylenet.serve.runtime import choose_providers, open_session, session_options
from stylenet.serve.stylizer import check_batch
from stylenet.serve.wct import (
    DEFAULT_EPS,
    FeatureMoments,
    FeatureStatistics,
    check_transform,
    transfer,
)

DEFAULT_PAINTING_SIZE = 512  # the painting's longest side for its statistics (brush scale)
FLAT_PAINTING_STD = 1.0  # 0–255 levels: below this the painting is one flat colour
CACHE_SIZE = 32  # paintings whose statistics stay cached (each C×C float64)
HALO = 64  # px of context around every tile (a multiple of SIZE_MULTIPLE)
MIN_IMAGE_SIDE = 16


@dataclass(frozen=True)
class Painting:
    """A painting's feature statistics: ``name`` (its style name), ``digest`` (sha256 of its
    pixels at the size used) and ``statistics`` (mean C, covariance C×C)."""

    name: str
    digest: str
    statistics: FeatureStatistics


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


def single_blas() -> contextlib.AbstractContextManager[object]:
    """NumPy's BLAS on one thread for the small transform matrices: beside ONNX Runtime's
    threads its own would contend for the cores (measured: 520 ms instead of 10 for a
    640×480 photo's transform on 2 cores)."""
    return _blas().limit(limits=1, user_api="blas")


def shipped_arbitrary_dir() -> Path:
    """``exported/arbitrary/``: the shipped arbitrary-style network."""
    return shipped_models_dir() / SHIPPED_NAME


def is_arbitrary_model(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a folder holding an arbitrary-style network (its encoder graph)."""
    folder = Path(path)
    return folder.is_dir() and (folder / ENCODER_FILE).is_file()


def pad_to_multiple(images: np.ndarray, multiple: int = SIZE_MULTIPLE) -> np.ndarray:
    """``N×3×H×W`` → reflection-padded at the bottom/right to multiples of ``multiple``
    (a new float32 array; edge padding where a side is too short to reflect)."""
    height, width = images.shape[-2:]
    pad_h, pad_w = -height % multiple, -width % multiple
    batch = np.asarray(images, dtype=np.float32)
    if not pad_h and not pad_w:
        return np.ascontiguousarray(batch)
    widths = ((0, 0), (0, 0), (0, pad_h), (0, pad_w))
    if min(height, width) > max(pad_h, pad_w):
        return np.pad(batch, widths, mode="reflect")
    return np.pad(batch, widths, mode="edge")


def painting_array(
    painting: str | os.PathLike[str] | Image.Image | np.ndarray, *, size: int
) -> tuple[np.ndarray, str]:
    """A painting (file, PIL image or ``H×W×3`` uint8 array) → ``(h×w×3 uint8, name)``,
    downscaled so its longest side is at most ``size``. Refuses (:class:`ImageError`) a file
    that is no image, a painting under :data:`MIN_PAINTING_SIDE` px and one flat colour."""
    if isinstance(painting, np.ndarray):
        check_rgb_array(painting, "painting")
        pixels, name, what = painting, "painting", "the painting"
    elif isinstance(painting, Image.Image):
        pixels, name, what = np.asarray(painting.convert("RGB")), "painting", "the painting"
    else:
        file = Path(painting).expanduser()
        pixels, name, what = np.asarray(open_image(file)), file.stem, f"painting {file.name}"
    height, width = pixels.shape[:2]
    if min(height, width) < MIN_PAINTING_SIDE:
        raise ImageError(
            f"{what} is too small ({width}×{height}): both sides must be at least "
            f"{MIN_PAINTING_SIDE} px for its style statistics; use a larger picture"
        )
    if max(height, width) > size:
        pixels = resize_array(pixels, max_side=size)
    if float(pixels.reshape(-1, 3).std(axis=0).max()) < FLAT_PAINTING_STD:
        raise ImageError(
            f"{what} is a single flat colour: it has no style to transfer; use a painting "
            "(or recolour the photo with another tool)"
        )
    return np.ascontiguousarray(pixels), name


def check_painting_size(size: int) -> None:
    if not MIN_PAINTING_SIDE <= int(size) <= PAINTING_MAX_SIDE:
        raise ConfigError(
            f"painting_size must be in [{MIN_PAINTING_SIDE}, {PAINTING_MAX_SIDE}] px, got {size}"
        )


class ArbitraryNetwork:
    """An exported arbitrary-style network (a folder with ``encoder.onnx`` and
    ``decoder.onnx``, see :mod:`stylenet.arbitrary_contract`) on ONNX Runtime.

    Args:
        folder: the model folder; ``None`` = the shipped one (``exported/arbitrary/``).
        providers, intra_op_threads, optimization, spinning: as for
            :class:`~stylenet.serve.runtime.OnnxStylizer`; ``spinning`` is off by default:
            the transform runs in NumPy between the two sessions, and worker threads spinning
            after a run would take its cores (measured: 300 ms instead of 10 for a 128×96 frame).
    """

    def __init__(
        self,
        folder: str | os.PathLike[str] | None = None,
        *,
        providers: Sequence[str] | None = None,
        intra_op_threads: int = 0,
        optimization: str = "all",
        spinning: bool = False,
    ) -> None:
        self.folder = Path(folder).expanduser() if folder is not None else shipped_arbitrary_dir()
        if not self.folder.is_dir():
            raise ModelFileError(
                f"arbitrary-style model folder not found: {self.folder} (it holds "
                f"{ENCODER_FILE} and {DECODER_FILE}; check the path)"
            )
        options = session_options(intra_op_threads, optimization, spinning)
        chosen = choose_providers(providers)
        self.encoder = open_session(self.folder / ENCODER_FILE, chosen, options)
        self.decoder = open_session(self.folder / DECODER_FILE, chosen, options)
        self._check(self.encoder, ENCODER_FILE, IMAGE, FEATURES)
        self._check(self.decoder, DECODER_FILE, FEATURES, STYLIZED)
        self.provider = self.encoder.get_providers()[0]
        self.facts: dict[str, Any] = self._read_facts()
        self._cache: OrderedDict[str, Painting] = OrderedDict()
        self._lock = threading.Lock()

    def _check(self, session: Any, file: str, given: str, made: str) -> None:
        inputs = [value.name for value in session.get_inputs()]
        outputs = [value.name for value in session.get_outputs()]
        metadata = session.get_modelmeta().custom_metadata_map
        if inputs != [given] or outputs != [made] or metadata.get(KIND_KEY) != KIND:
            raise ModelFileError(
                f"{self.folder / file} is not a stylenet arbitrary-style graph (inputs "
                f"{inputs}, outputs {outputs}); export it with scripts/export_arbitrary.py"
            )

    def _read_facts(self) -> dict[str, Any]:
        card = self.folder / CARD_FILE
        facts: dict[str, Any] = {"kind": KIND}
        metadata = self.encoder.get_modelmeta().custom_metadata_map
        if CONFIG_KEY in metadata:
            facts["autoencoder"] = json.loads(metadata[CONFIG_KEY])
        if card.is_file():
            # the card is documentation; the graphs are the model
            with contextlib.suppress(OSError, ValueError, AttributeError):
                facts.update(json.loads(card.read_text()).get("facts", {}))
        return facts

    def encode(self, images: np.ndarray) -> np.ndarray:
        """``N×3×H×W`` RGB [0, 255] (``H, W`` multiples of 8) → ``N×C×H/8×W/8`` float32."""
        (features,) = self.encoder.run([FEATURES], {IMAGE: np.ascontiguousarray(images)})
        return features

    def decode(self, features: np.ndarray) -> np.ndarray:
        """``N×C×h×w`` features → ``N×3×8h×8w`` float32 RGB in [0, 255]."""
        (out,) = self.decoder.run([STYLIZED], {FEATURES: np.ascontiguousarray(features)})
        return out

    def features_of(self, images: np.ndarray) -> np.ndarray:
        """Features of ``N×3×H×W`` images of any size ≥ 16 px (padded to multiples of 8
        inside), cropped to ``N×C×⌈H/8⌉×⌈W/8⌉``."""
        height, width = images.shape[-2:]
        features = self.encode(pad_to_multiple(images))
        return features[..., : -(-height // SIZE_MULTIPLE), : -(-width // SIZE_MULTIPLE)]

    def painting(
        self,
        painting: str | os.PathLike[str] | Image.Image | np.ndarray,
        *,
        size: int = DEFAULT_PAINTING_SIZE,
        name: str | None = None,
    ) -> Painting:
        """The statistics of ``painting`` at longest side ``size`` (cached by pixel digest)."""
        check_painting_size(size)
        pixels, default_name = painting_array(painting, size=size)
        digest = hashlib.sha256(pixels.tobytes() + repr(pixels.shape).encode()).hexdigest()
        with self._lock:
            cached = self._cache.get(digest)
            if cached is not None:
                self._cache.move_to_end(digest)
                return Painting(name or default_name, digest, cached.statistics)
        batch = pixels.transpose(2, 0, 1)[None].astype(np.float32)
        features = self.features_of(batch)[0]
        with single_blas():
            statistics = FeatureStatistics.of(features)
        found = Painting(name or default_name, digest, statistics)
        with self._lock:
            self._cache[digest] = found
            while len(self._cache) > CACHE_SIZE:
                self._cache.popitem(last=False)
        return found


class PaintingStylizer:
    """One painting bound to an :class:`ArbitraryNetwork`: a
    :class:`~stylenet.serve.stylizer.Stylizer` with one style (the painting's name).

    ``strength`` in [0, 1] blends the transformed features with the photo's own (0 = the
    photo through the autoencoder); ``transform``: ``wct`` or ``adain``; ``eps``: the
    covariance floor (share of the mean variance). Cheap to create: the sessions and the
    painting's statistics are shared.
    """

    def __init__(
        self,
        network: ArbitraryNetwork,
        painting: Painting,
        *,
        strength: float = 1.0,
        transform: str = "wct",
        eps: float = DEFAULT_EPS,
    ) -> None:
        check_transform(transform, strength)
        self.network, self.painting = network, painting
        self.strength, self.transform, self.eps = float(strength), transform, float(eps)
        self.styles = [painting.name]
        self.facts = {**network.facts, "painting": painting.name, "transform": transform}
        self.provider = network.provider

    def with_strength(self, strength: float) -> PaintingStylizer:
        """The same painting and network at ``strength`` times this one's (used by the
        pipeline: the arbitrary network blends features, which keeps the painting's texture
        at half strength where a pixel blend would fade it)."""
        if float(strength) == 1.0:
            return self
        return PaintingStylizer(
            self.network,
            self.painting,
            strength=self.strength * float(strength),
            transform=self.transform,
            eps=self.eps,
        )

    def _transfer(self, features: np.ndarray, content: FeatureStatistics) -> np.ndarray:
        return transfer(
            features,
            content,
            self.painting.statistics,
            transform=self.transform,
            strength=self.strength,
            eps=self.eps,
        )

    def __call__(self, images: np.ndarray, style_weights: np.ndarray | None = None) -> np.ndarray:
        """``N×3×H×W`` float32 RGB [0, 255] → stylized ``N×3×H×W`` float32 [0, 255]; each
        image is whitened with its own statistics. ``style_weights`` is ignored (one style)."""
        batch = check_batch(images, MIN_IMAGE_SIDE)
        height, width = batch.shape[-2:]
        features = self.network.encode(pad_to_multiple(batch))
        rows, columns = -(-height // SIZE_MULTIPLE), -(-width // SIZE_MULTIPLE)
        moved = np.empty_like(features)
        with single_blas():
            for index, one in enumerate(features):
                content = FeatureStatistics.of(one[:, :rows, :columns])
                moved[index] = self._transfer(one, content)
        return self.network.decode(moved)[..., :height, :width]

    def content_statistics(self, images: np.ndarray, *, tile: int) -> list[FeatureStatistics]:
        """The whole-image feature statistics of ``N×3×H×W`` images (uint8 or float32),
        summed over tiles of at most ``tile`` px (each encoded with :data:`HALO` px of
        context)."""
        moments: list[FeatureMoments] = []
        for window, inner in _windows(images.shape[-2:], tile):
            features = self._encode_window(images, window)
            if not moments:
                moments = [FeatureMoments.empty(features.shape[1]) for _ in features]
            with single_blas():
                for one, sums in zip(features, moments, strict=True):
                    sums.add(one[:, inner[0] : inner[1], inner[2] : inner[3]])
        return [sums.statistics() for sums in moments]

    def layerwise_rows(
        self, images: np.ndarray, style_weights: np.ndarray | None = None, *, tile: int
    ) -> Iterator[tuple[int, np.ndarray]]:
        """``N×3×H×W`` [0, 255] (uint8 or float32) → ``(y, N×3×h×W float32 rows)`` from the
        top: two passes over tiles of at most ``tile`` px (the first for the whole image's
        content statistics), so every tile is whitened like a single pass would."""
        contents = self.content_statistics(images, tile=tile)
        count, height, width = images.shape[0], images.shape[-2], images.shape[-1]
        current_y, row = -1, np.empty(0, np.float32)
        for window, inner in _windows((height, width), tile):
            top, bottom, left, right = (SIZE_MULTIPLE * v for v in inner)
            y0, x0 = window[0] + top, window[2] + left
            if y0 != current_y:
                if current_y >= 0:
                    yield current_y, row
                current_y = y0
                row = np.empty((count, 3, min(height, window[0] + bottom) - y0, width), np.float32)
            features = self._encode_window(images, window)
            with single_blas():
                moved = np.stack(
                    [self._transfer(one, contents[i]) for i, one in enumerate(features)]
                )
            out = self.network.decode(moved)
            h = min(height - y0, bottom - top)
            w = min(width - x0, right - left)
            row[..., x0 : x0 + w] = out[..., top : top + h, left : left + w]
        if current_y >= 0:
            yield current_y, row

    def _encode_window(self, images: np.ndarray, window: tuple[int, int, int, int]) -> np.ndarray:
        y0, y1, x0, x1 = window
        crop = np.asarray(images[..., y0:y1, x0:x1], dtype=np.float32)
        return self.network.encode(pad_to_multiple(crop))


def _windows(
    shape: Sequence[int], tile: int
) -> Iterator[tuple[tuple[int, int, int, int], tuple[int, int, int, int]]]:
    """Tiles of an ``H×W`` image, row by row: ``((y0, y1, x0, x1) pixel window with HALO px
    of context, (top, bottom, left, right) of the tile inside the window's features)``."""
    height, width = int(shape[0]), int(shape[1])
    step = max(SIZE_MULTIPLE, tile - tile % SIZE_MULTIPLE)
    for y in range(0, height, step):
        for x in range(0, width, step):
            y0, x0 = max(0, y - HALO), max(0, x - HALO)
            y1, x1 = min(height, y + step + HALO), min(width, x + step + HALO)
            top, left = (y - y0) // SIZE_MULTIPLE, (x - x0) // SIZE_MULTIPLE
            bottom = top + -(-(min(height, y + step) - y) // SIZE_MULTIPLE)
            right = left + -(-(min(width, x + step) - x) // SIZE_MULTIPLE)
            yield (y0, y1, x0, x1), (top, bottom, left, right)


def painting_stylizer(
    painting: str | os.PathLike[str] | Image.Image | np.ndarray,
    *,
    model: str | os.PathLike[str] | None = None,
    strength: float = 1.0,
    transform: str = "wct",
    painting_size: int = DEFAULT_PAINTING_SIZE,
    providers: Sequence[str] | None = None,
) -> PaintingStylizer:
    """A stylizer for ``painting`` on the arbitrary network in ``model`` (a folder; ``None``
    = the shipped one)."""
    network = ArbitraryNetwork(model, providers=providers)
    return PaintingStylizer(
        network,
        network.painting(painting, size=painting_size),
        strength=strength,
        transform=transform,
    )
