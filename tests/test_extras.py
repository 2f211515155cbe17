from __future__ import annotations

import importlib.util

import pytest

from stylenet import extras
from stylenet.errors import MissingExtraError


def test_the_full_install_has_the_training_extra() -> None:
    assert extras.missing_training_modules() == []
    extras.require_training_extra("stylenet-train")


def test_a_missing_module_is_named_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object):
        if name == "lightning":
            return None
        if name == "onnx":
            raise ModuleNotFoundError("blocked")
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    assert extras.missing_training_modules() == ["lightning", "onnx"]
    with pytest.raises(MissingExtraError) as info:
        extras.require_training_extra("stylenet-export", alternative="use a shipped model")
    assert str(info.value) == (
        'stylenet-export needs the training extra: pip install "stylenet[train]" '
        "(missing: lightning, onnx); or use a shipped model"
    )


def test_a_missing_training_module_is_named_by_its_package(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "sklearn" else real(name, *a)
    )
    extras.require_training_module("t-SNE", "numpy", package="numpy")
    with pytest.raises(MissingExtraError) as info:
        extras.require_training_module("t-SNE", "sklearn", package="scikit-learn")
    assert str(info.value) == (
        't-SNE needs the training extra: pip install "stylenet[train]" (missing: scikit-learn)'
    )


def test_the_video_extra_is_asked_for_in_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    extras.require_video_extra("stylenet-webcam")  # the full install has OpenCV
    real = importlib.util.find_spec

    def find_spec(name: str, *args: object):
        if name == "cv2":
            raise ModuleNotFoundError("blocked")
        return real(name, *args)

    monkeypatch.setattr(importlib.util, "find_spec", find_spec)
    with pytest.raises(MissingExtraError) as info:
        extras.require_video_extra("stylenet-webcam")
    assert str(info.value) == (
        'stylenet-webcam needs the video extra: pip install "stylenet[video]" '
        "(missing: opencv-python-headless)"
    )
