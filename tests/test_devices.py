from __future__ import annotations

from pathlib import Path

import pytest

from stylenet.devices import (
    choose_precision,
    cpu_flags,
    describe_cpu,
    read_cpuinfo,
    resolve_precision,
)

# Excerpts of /proc/cpuinfo: an AVX2-only desktop, an AVX-512 server with BF16 and VNNI, an
# AMX server, and an ARM machine (``Features`` instead of ``flags``).
AVX2_ONLY = """processor\t: 0
vendor_id\t: GenuineIntel
model name\t: Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz
flags\t\t: fpu sse sse2 ssse3 sse4_1 sse4_2 avx f16c fma avx2 bmi2
"""
AVX512_BF16 = """processor\t: 0
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx fma avx2 avx512f avx512bw avx512vl avx512_bf16 avx512_vnni
processor\t: 1
model name\t: AMD EPYC 9R14
flags\t\t: fpu sse2 avx fma avx2 avx512f avx512bw avx512vl avx512_bf16 avx512_vnni
"""
AMX = """model name\t: Intel(R) Xeon(R) Platinum 8480+
flags\t\t: avx2 avx512f avx512_vnni amx_bf16 amx_tile amx_int8
"""
AVX512_NO_BF16 = """model name\t: Intel(R) Xeon(R) Gold 6148
flags\t\t: avx2 avx512f avx512bw avx512vl
"""
ARM = """processor\t: 0
Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 bf16
"""


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


def test_cpu_flags_and_description() -> None:
    assert "avx512_bf16" in cpu_flags(AVX512_BF16) and "avx512_bf16" not in cpu_flags(AVX2_ONLY)
    assert "bf16" in cpu_flags(ARM)
    assert cpu_flags("") == frozenset()
    assert describe_cpu(AVX512_BF16) == "AMD EPYC 9R14 (AVX2, AVX-512, AVX-512 BF16, AVX-512 VNNI)"
    assert describe_cpu(AVX2_ONLY) == "Intel(R) Core(TM) i7-8700 CPU @ 3.20GHz (AVX2)"
    assert (
        describe_cpu(AMX)
        == "Intel(R) Xeon(R) Platinum 8480+ (AVX2, AVX-512, AVX-512 VNNI, AMX-BF16)"
    )
    assert describe_cpu(ARM) == "unknown CPU (no AVX2 or AVX-512)"
    assert describe_cpu("") == "unknown CPU (flags unknown)"


def test_read_cpuinfo_of_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_cpuinfo(str(tmp_path / "none")) == ""
    (tmp_path / "cpuinfo").write_text(AVX2_ONLY)
    assert read_cpuinfo(str(tmp_path / "cpuinfo")) == AVX2_ONLY
