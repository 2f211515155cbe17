"""Shared fixtures: synthetic images and the optional ../shared/data folder (helpers that
tests import are in ``tests/helpers/``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from tests.helpers.cli import cli_error_line
from tests.helpers.images import synthetic_rgb
from tests.helpers.paths import REPO, SHARED_DATA
from tests.helpers.scripts import load_script

# Re-exported for test modules not yet moved to ``tests.helpers``; new tests import from there.
__all__ = ["REPO", "SHARED_DATA", "cli_error_line", "load_script", "synthetic_rgb"]


@pytest.fixture
def rgb_array() -> np.ndarray:
    return synthetic_rgb()


@pytest.fixture
def image_file(tmp_path: Path, rgb_array: np.ndarray) -> Path:
    path = tmp_path / "photo.png"
    Image.fromarray(rgb_array).save(path)
    return path


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """A folder (with a subfolder) of six synthetic 80×96 JPEG/PNG photos."""
    root = tmp_path / "photos"
    (root / "nested").mkdir(parents=True)
    for i in range(6):
        folder = root / "nested" if i % 2 else root
        suffix = ".jpg" if i % 3 else ".png"
        Image.fromarray(synthetic_rgb(80, 96, seed=i)).save(folder / f"img{i}{suffix}")
    return root


@pytest.fixture
def saved_classifier(tmp_path: Path) -> Path:
    """A whole tiny 3-class CNN saved with ``torch.save`` (layers: conv, relu, pool, flatten,
    linear), as users pass to ``classifier=``."""
    net = torch.nn.Sequential(
        torch.nn.Conv2d(3, 4, 3, padding=1),
        torch.nn.ReLU(),
        torch.nn.AdaptiveAvgPool2d(1),
        torch.nn.Flatten(),
        torch.nn.Linear(4, 3),
    )
    path = tmp_path / "net.pt"
    torch.save(net, path)
    return path


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data`` when present; skips the test otherwise."""
    if not (SHARED_DATA / "styles").is_dir():
        pytest.skip("../shared/data is not available")
    return SHARED_DATA


@pytest.fixture(autouse=True)
def _seed() -> None:
    torch.manual_seed(0)
