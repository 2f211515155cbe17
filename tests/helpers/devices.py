"""Tests of GPU code paths: marked ``gpu`` and skipped where no CUDA device is present."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import pytest
import torch

Test = TypeVar("Test", bound=Callable[..., object])

NO_CUDA = "needs a CUDA GPU (none here); run with a GPU: pytest -m gpu"
CUDA_MARKS = (pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason=NO_CUDA))


def requires_cuda(test: Test) -> Test:
    """Mark ``test`` ``gpu`` and skip it unless CUDA is available (also for ``pytest.param``:
    ``marks=CUDA_MARKS``)."""
    for mark in reversed(CUDA_MARKS):
        test = mark(test)
    return test
