"""Device, autocast dtype and precision choices."""

from __future__ import annotations

import pytest

from stylenet.devices import choose_precision, resolve_precision
from stylenet.provenance import cpu_flags
from tests.helpers.cpuinfo import AMX, ARM, AVX2_ONLY, AVX512_BF16, AVX512_NO_BF16


@pytest.mark.parametrize(
    ("cpuinfo", "precision"),
    [
        (AVX2_ONLY, "32-true"),
        (AVX512_NO_BF16, "32-true"),
        (AVX512_BF16, "bf16-mixed"),
        (AMX, "bf16-mixed"),
        (ARM, "32-true"),
        ("", "32-true"),  # no /proc/cpuinfo (macOS, Windows): fp32
    ],
)
def test_auto_picks_bf16_only_on_cpus_with_native_bf16(cpuinfo: str, precision: str) -> None:
    chosen, reason = resolve_precision("auto", "cpu", cpuinfo=lambda: cpuinfo, cuda_bf16=False)
    assert chosen == precision
    assert reason.startswith("auto:") and "torch CPU kernels" in reason


def test_an_explicit_precision_overrides_auto() -> None:
    for requested in ("32-true", "bf16-mixed", "16-mixed"):
        for cpuinfo in (AVX2_ONLY, AVX512_BF16):
            chosen, reason = resolve_precision(
                requested, "cpu", cpuinfo=lambda text=cpuinfo: text, cuda_bf16=False
            )
            assert (chosen, reason) == (requested, "as configured")


def test_cuda_decides_on_the_gpu_not_the_cpu() -> None:
    flags = cpu_flags(AVX2_ONLY)
    assert choose_precision("auto", accelerator="gpu", cpu_flags=flags, cuda_bf16=True)[0] == (
        "bf16-mixed"
    )
    older_gpu = choose_precision(
        "auto", accelerator="gpu", cpu_flags=cpu_flags(AMX), cuda_bf16=False
    )
    assert older_gpu[0] == "32-true"
    # accelerator=auto uses the GPU when there is one, else the CPU's rule
    assert choose_precision("auto", accelerator="auto", cpu_flags=flags, cuda_bf16=True)[0] == (
        "bf16-mixed"
    )
    assert choose_precision("auto", accelerator="auto", cpu_flags=flags, cuda_bf16=False)[0] == (
        "32-true"
    )
    assert choose_precision("auto", accelerator="mps", cpu_flags=flags, cuda_bf16=False)[0] == (
        "32-true"
    )
