"""Fixtures of the serving tests."""

from __future__ import annotations

import pytest

from stylenet.serve import pipeline


@pytest.fixture
def small_layerwise_tiles(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let the pipeline run layer by layer over tiles smaller than
    :data:`~stylenet.serve.layerwise.MIN_TILE`, so small test pictures take several tiles."""
    monkeypatch.setattr(pipeline, "MIN_TILE", 8)
