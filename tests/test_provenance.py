"""The machine and software facts model cards and benchmark lines record."""

from __future__ import annotations

from pathlib import Path

import torch

from stylenet.provenance import (
    cpu_flags,
    describe_cpu,
    machine_description,
    read_cpuinfo,
    software_versions,
)
from tests.helpers.cpuinfo import AMX, ARM, AVX2_ONLY, AVX512_BF16


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


def test_the_machine_is_the_cpu_model_and_torch_threads() -> None:
    threads = torch.get_num_threads()
    described = machine_description("cpu", cpuinfo=lambda: AVX512_BF16)
    assert described == f"AMD EPYC 9R14, {threads} CPU threads"
    assert machine_description("cpu", cpuinfo=lambda: ARM).endswith(f"{threads} CPU threads")


def test_an_accelerator_without_cuda_is_named_as_given(monkeypatch) -> None:
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert machine_description("mps", cpuinfo=lambda: AVX2_ONLY) == "mps"


def test_software_versions_are_the_modules_own() -> None:
    import numpy

    assert software_versions(("torch", "numpy")) == {
        "torch": torch.__version__,
        "numpy": numpy.__version__,
    }
