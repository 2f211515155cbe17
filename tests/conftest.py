"""Shared fixtures: synthetic images and the optional ../shared/data folder."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch
from PIL import Image

REPO = Path(__file__).resolve().parents[1]


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (scripts are not a package) as module ``name``."""
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


SHARED_DATA = REPO.parent / "shared" / "data"


def synthetic_rgb(height: int = 48, width: int = 64, seed: int = 0) -> np.ndarray:
    """A smooth, colourful ``H×W×3`` uint8 picture (gradients + a square + noise)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    red = 255 * xx / max(width - 1, 1)
    green = 255 * yy / max(height - 1, 1)
    blue = 127 + 100 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    image = np.stack([red, green, blue], axis=-1)
    image[height // 4 : height // 2, width // 4 : width // 2] = (240, 30, 60)
    image += rng.normal(0, 8, image.shape)
    return np.clip(image, 0, 255).astype(np.uint8)


def cli_error_line(command: str, *overrides: str, cwd: Path | None = None) -> str:
    """Run ``python -m stylenet.cli.<command> <overrides>``; check it failed with exit
    status 2 and exactly one stderr line, and return that line."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", f"stylenet.cli.{command}", *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, f"exit status {proc.returncode}; stderr:\n{proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{proc.stderr}"
    return lines[0]


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
