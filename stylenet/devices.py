"""Pick the torch device and autocast dtype a command runs on."""

from __future__ import annotations

import torch

from stylenet.errors import ConfigError


def resolve_device(name: str = "auto") -> torch.device:
    """``auto`` → CUDA when available, else CPU; otherwise the named device (``cpu``, ``cuda:1``)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError as error:
        raise ConfigError(f"unknown device {name!r}; use auto, cpu or cuda[:N]") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device={name} asked for, but no CUDA GPU is available; use device=cpu")
    return device


def autocast_dtype(precision: str) -> torch.dtype | None:
    """``fp32`` → None (no autocast), ``bf16`` → bfloat16, ``fp16`` → float16."""
    table = {"fp32": None, "32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in table:
        raise ConfigError(f"precision must be one of fp32, bf16, fp16; got {precision!r}")
    return table[precision]
