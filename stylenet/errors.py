"""One exception hierarchy for all of stylenet.

Every message is a single line that says what is wrong and how to fix it; the
command-line entry points print it (no traceback) and exit with status 2.
"""

from __future__ import annotations


class StylenetError(Exception):
    """Base class: a user-facing, one-line error."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(message.split()))


class ImageError(StylenetError):
    """An image file is missing, unreadable, corrupt or of an unusable size."""


class ConfigError(StylenetError):
    """A configuration value is missing or out of range."""


class WeightsError(StylenetError):
    """Pretrained weights cannot be found or loaded."""


class CheckpointError(StylenetError):
    """A training checkpoint is missing, corrupt or of the wrong kind."""


class ModelFileError(StylenetError):
    """An exported (ONNX) model is missing, corrupt or breaks the model contract."""


class VideoError(StylenetError):
    """A video file or camera cannot be opened, read or written."""
