"""Maximally activating image patches of a layer's channels (Zeiler and Fergus 2014; Girshick
et al. 2014): per channel, the photos where it fires most, cropped to the firing unit's
receptive field."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from stylenet.methods.receptive_field import ReceptiveField


@dataclass(frozen=True)
class Unit:
    """Where a channel fired: photo ``image`` (row of the folder), grid cell ``(y, x)``."""

    image: int
    y: int
    x: int
    value: float


def top_units(
    peak: np.ndarray, where: np.ndarray, grid: np.ndarray, channel: int, k: int
) -> list[Unit]:
    """The ``k`` photos in which ``channel`` fires most, one unit (its peak) per photo.

    ``peak``/``where``: ``N×C`` peak value and flat peak position; ``grid``: ``N×2`` (h, w).
    Ties keep folder order.
    """
    order = np.argsort(-peak[:, channel], kind="stable")[:k]
    units = []
    for index in order.tolist():
        y, x = divmod(int(where[index, channel]), int(grid[index, 1]))
        units.append(Unit(index, y, x, float(peak[index, channel])))
    return units


def strongest_channels(peak: np.ndarray, count: int) -> list[int]:
    """The ``count`` channels with the highest peak over the folder (ties: lower index)."""
    return np.argsort(-peak.max(axis=0), kind="stable")[:count].tolist()


def crop_patch(
    image: torch.Tensor, box: tuple[int, int, int, int], fill: float = 0.5
) -> torch.Tensor:
    """``3×H×W`` → the ``box`` (top, left, bottom, right) crop; parts outside the image
    (the padding the network saw) are ``fill`` grey."""
    top, left, bottom, right = box
    height, width = image.shape[-2:]
    pads = (max(0, -left), max(0, right - width), max(0, -top), max(0, bottom - height))
    padded = F.pad(image, pads, value=fill)
    top, left = top + pads[2], left + pads[0]
    return padded[:, top : top + bottom - box[0], left : left + right - box[1]]


def unit_patch(image: torch.Tensor, unit: Unit, field: ReceptiveField, tile: int) -> torch.Tensor:
    """The receptive field of ``unit`` in ``image`` (``3×H×W``), resized to ``tile×tile``."""
    patch = crop_patch(image, field.box(unit.y, unit.x))
    return F.interpolate(patch[None], size=(tile, tile), mode="bilinear", antialias=True)[0]
