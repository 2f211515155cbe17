"""The arbitrary-style model contract: file, input, output and metadata names.

A model folder holds ``encoder.onnx`` (``image`` float32 ``N×3×H×W`` RGB 0–255, ``H, W``
multiples of :data:`SIZE_MULTIPLE` → ``features`` ``N×C×H/8×W/8``), ``decoder.onnx``
(``features`` → ``stylized`` ``N×3×H×W`` RGB 0–255) and ``card.json``. Both graphs carry the
metadata :data:`KIND_KEY` = :data:`KIND`, :data:`FORMAT_KEY` and :data:`CONFIG_KEY`.
Torch-free: both the exporter and the ONNX Runtime backend import it.
"""

from __future__ import annotations

KIND = "arbitrary"
FORMAT_VERSION = 1
KIND_KEY = "stylenet.kind"
FORMAT_KEY = "stylenet.format_version"
CONFIG_KEY = "stylenet.autoencoder"
ENCODER_FILE = "encoder.onnx"
DECODER_FILE = "decoder.onnx"
CARD_FILE = "card.json"
IMAGE = "image"
FEATURES = "features"
STYLIZED = "stylized"
SIZE_MULTIPLE = 8
SHIPPED_NAME = "arbitrary"  # exported/arbitrary/
MIN_PAINTING_SIDE = 64  # a smaller painting has too few features for its statistics
PAINTING_MAX_SIDE = 1024  # larger paintings are downscaled for their statistics
