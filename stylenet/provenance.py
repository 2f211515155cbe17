"""Provenance: what machine and software a model was trained or exported on, as model cards
and benchmark lines record it. Reads ``/proc/cpuinfo`` (Linux) and asks torch; no config stack."""

from __future__ import annotations

import importlib
import platform
from collections.abc import Callable, Iterable

import torch

# Flags worth naming in benchmark and log lines (the kernels torch and ONNX Runtime pick).
NOTABLE_CPU_FLAGS = {
    "avx2": "AVX2",
    "avx512f": "AVX-512",
    "avx512_bf16": "AVX-512 BF16",
    "avx512_vnni": "AVX-512 VNNI",
    "avx_vnni": "AVX-VNNI",
    "amx_bf16": "AMX-BF16",
}
CPUINFO = "/proc/cpuinfo"


def read_cpuinfo(path: str = CPUINFO) -> str:
    """The text of ``/proc/cpuinfo`` (Linux); empty where there is none."""
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except OSError:
        return ""


def cpu_flags(cpuinfo: str) -> frozenset[str]:
    """The feature flags of the first processor in ``/proc/cpuinfo`` text (x86 ``flags``,
    ARM ``Features``); empty when the text has none."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() in ("flags", "Features"):
            return frozenset(value.split())
    return frozenset()


def cpu_model(cpuinfo: str) -> str:
    """The ``model name`` of the first processor (empty when the text has none)."""
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return ""


def describe_cpu(cpuinfo: str) -> str:
    """``AMD EPYC (AVX2, AVX-512, AVX-512 BF16, AVX-512 VNNI)``: the model and notable flags."""
    flags = cpu_flags(cpuinfo)
    named = [label for flag, label in NOTABLE_CPU_FLAGS.items() if flag in flags]
    model = cpu_model(cpuinfo) or "unknown CPU"
    if not flags:
        return f"{model} (flags unknown)"
    return f"{model} ({', '.join(named) if named else 'no AVX2 or AVX-512'})"


def machine_description(accelerator: str, *, cpuinfo: Callable[[], str] = read_cpuinfo) -> str:
    """``AMD EPYC 9R14, 2 CPU threads`` or ``2× NVIDIA A100`` for Lightning's ``accelerator``
    (the ``machine`` fact of a model card). ``cpuinfo`` returns ``/proc/cpuinfo`` text."""
    if accelerator != "cpu" and torch.cuda.is_available():  # untested here: no GPU
        return f"{torch.cuda.device_count()}× {torch.cuda.get_device_name(0)}"
    if accelerator != "cpu":
        return accelerator
    model = cpu_model(cpuinfo()) or platform.processor()
    return f"{model + ', ' if model else ''}{torch.get_num_threads()} CPU threads"


def software_versions(modules: Iterable[str]) -> dict[str, str]:
    """``{"torch": "2.5.1", …}``: the ``__version__`` of each named module (imported here)."""
    return {name: str(importlib.import_module(name).__version__) for name in modules}
