"""One exception hierarchy for all of stylenet.

Every message is a single line that says what is wrong and how to fix it; the
command-line entry points print it (no traceback) and exit with status 2.
"""

from __future__ import annotations


class StylenetError(Exception):
    """Base class: a user-facing, one-line error."""

    def __init__(self, message: str) -> None:
        super().__init__(" ".join(_from_worker(message).split()))


def _from_worker(message: str) -> str:
    """PyTorch re-raises a DataLoader worker's error with the worker's whole traceback as the
    message; keep only the original one-line message."""
    if "Original Traceback (most recent call last):" not in message:
        return message
    last = message.strip().splitlines()[-1]
    _, colon, original = last.partition(": ")
    return f"in a data loader worker: {original if colon else last}"


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


class OutputError(StylenetError):
    """An output file or folder cannot be written."""


class VideoError(StylenetError):
    """A video file or camera cannot be opened, read or written."""


class MissingExtraError(StylenetError):
    """A command or model needs an optional part of stylenet that is not installed."""
