"""Pick the torch device, autocast dtype and training precision a command runs on (the CPU's
facts come from :mod:`stylenet.provenance`)."""

from __future__ import annotations

from collections.abc import Callable

import torch

from stylenet.errors import ConfigError
from stylenet.provenance import cpu_flags, describe_cpu, read_cpuinfo


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


# x86 flags (/proc/cpuinfo) under which bf16 matmuls and convolutions run natively: AVX-512 BF16
# (Cooper Lake, Zen 4 and later) and AMX (Sapphire Rapids and later). Without them, CPU autocast
# emulates bf16 and a training step is an order of magnitude slower than fp32.
NATIVE_BF16_CPU_FLAGS = ("avx512_bf16", "amx_bf16")


def choose_precision(
    requested: str, *, accelerator: str, cpu_flags: frozenset[str], cuda_bf16: bool
) -> tuple[str, str]:
    """Lightning precision for ``requested`` and why: ``auto`` → ``bf16-mixed`` where bf16 is
    native (a bf16-capable CUDA GPU, or a CPU with one of :data:`NATIVE_BF16_CPU_FLAGS`),
    else ``32-true``; any other value is kept as given.

    ``accelerator`` is Lightning's (``cpu``, ``gpu``/``cuda``, or ``auto``: the GPU when
    ``cuda_bf16``); ``cuda_bf16``: the CUDA GPU training would use has native bf16.
    """
    if requested != "auto":
        return requested, "as configured"
    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and cuda_bf16):
        if cuda_bf16:  # untested here: no GPU
            return "bf16-mixed", "auto: the CUDA GPU has native bf16"
        return "32-true", "auto: the CUDA GPU has no native bf16"
    if accelerator not in ("cpu", "auto"):
        return "32-true", f"auto: no bf16 rule for accelerator {accelerator}"
    native = [flag for flag in NATIVE_BF16_CPU_FLAGS if flag in cpu_flags]
    if native:
        return "bf16-mixed", f"auto: the CPU has native bf16 ({', '.join(native)})"
    return "32-true", "auto: the CPU has no native bf16 (neither avx512_bf16 nor amx_bf16)"


def resolve_precision(
    requested: str,
    accelerator: str,
    *,
    cpuinfo: Callable[[], str] = read_cpuinfo,
    cuda_bf16: bool | None = None,
) -> tuple[str, str]:
    """:func:`choose_precision` on this machine: its CPU flags (``read_cpuinfo()``) and CUDA
    GPU (``cuda_bf16=None``: asked of torch). ``cpuinfo`` returns ``/proc/cpuinfo`` text. The
    reason names the CPU and torch's CPU kernel level (``get_cpu_capability``) when the CPU
    decided."""
    if cuda_bf16 is None:
        cuda_bf16 = bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    text = cpuinfo()
    precision, reason = choose_precision(
        str(requested), accelerator=str(accelerator), cpu_flags=cpu_flags(text), cuda_bf16=cuda_bf16
    )
    if "CPU" in reason:
        kernels = torch.backends.cpu.get_cpu_capability()
        reason = f"{reason}; {describe_cpu(text)}, torch CPU kernels {kernels}"
    return precision, reason
