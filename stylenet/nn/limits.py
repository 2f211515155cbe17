"""Sizes the transformer network accepts, without importing torch (the ONNX path reads them)."""

from __future__ import annotations

MIN_SIDE = 32  # shortest image side; the network pads to a multiple of 4 inside
