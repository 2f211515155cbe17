"""Sizes the transformer network accepts, without importing torch (the ONNX path reads them)."""

from __future__ import annotations

from stylenet.contract import MIN_IMAGE_SIDE as MIN_SIDE

__all__ = ["MIN_SIDE"]  # shortest image side; the network pads to a multiple of 4 inside
