"""The optional training and video extras and how to ask for them.

The base install stylizes still images and serves ONNX models with ONNX Runtime, NumPy and
Pillow; the training extra (``pip install "stylenet[train]"``) adds PyTorch, torchvision,
Lightning and ONNX for training, export, checkpoints, the optimisation methods and the
inspection tools (and scikit-learn, for t-SNE maps); the video extra
(``pip install "stylenet[video]"``) adds OpenCV for videos, the webcam and ``WS /v1/live``.
Checked without importing anything heavy (``importlib.util.find_spec``).
"""

from __future__ import annotations

import importlib.util

from stylenet.errors import MissingExtraError

TRAINING_EXTRA = "train"
TRAINING_MODULES = ("torch", "torchvision", "lightning", "onnx")
INSTALL_HINT = f'pip install "stylenet[{TRAINING_EXTRA}]"'
VIDEO_EXTRA = "video"
VIDEO_MODULE = "cv2"  # opencv-python-headless
VIDEO_INSTALL_HINT = f'pip install "stylenet[{VIDEO_EXTRA}]"'


def installed(module: str) -> bool:
    """Whether the top-level ``module`` can be imported (found, not imported)."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a broken or blocked install counts as missing
        return False


def missing_training_modules() -> list[str]:
    """The training extra's top-level modules that cannot be imported here."""
    return [module for module in TRAINING_MODULES if not installed(module)]


def require_training_extra(what: str, *, alternative: str | None = None) -> None:
    """Raise :class:`MissingExtraError` (``<what> needs the training extra: pip install
    "stylenet[train]"``, then ``; or <alternative>``) unless the training extra is installed."""
    missing = missing_training_modules()
    if missing:
        other = f"; or {alternative}" if alternative else ""
        raise MissingExtraError(
            f"{what} needs the training extra: {INSTALL_HINT} "
            f"(missing: {', '.join(missing)}){other}"
        )


def require_training_module(
    what: str, module: str, *, package: str, alternative: str | None = None
) -> None:
    """Raise :class:`MissingExtraError` (``<what> needs the training extra: pip install
    "stylenet[train]" (missing: <package>)``, then ``; or <alternative>``) unless ``module``,
    one that only the training extra installs, can be imported."""
    if not installed(module):
        other = f"; or {alternative}" if alternative else ""
        raise MissingExtraError(
            f"{what} needs the training extra: {INSTALL_HINT} (missing: {package}){other}"
        )


def require_video_extra(what: str) -> None:
    """Raise :class:`MissingExtraError` (``<what> needs the video extra: pip install
    "stylenet[video]"``) unless OpenCV, which only the video extra installs, can be imported."""
    if not installed(VIDEO_MODULE):
        raise MissingExtraError(
            f"{what} needs the video extra: {VIDEO_INSTALL_HINT} (missing: opencv-python-headless)"
        )
