"""How hard a painting pulls a network away from photos, and the style weight that evens it out.

A painting close to ordinary photos (a low style loss of the photos themselves) gives the
transformer a weak gradient at a shared style weight and can come out as a mere tint. The
*pull* of a painting is the mean weighted style loss of some photos against it; the automatic
style weight (``painting.style_weight=auto``) scales the loss's style weight so that the
painting starts training with a given pull (``auto_style_weight.pull``, measured with
``scripts/style_pull.py``; see docs/BENCHMARKS.md).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import torch

from stylenet.errors import ConfigError
from stylenet.eval.fast_vs_gatys import loss_terms
from stylenet.losses import PerceptualLoss


def style_pull(loss: PerceptualLoss, photos: Sequence[torch.Tensor]) -> float:
    """Mean weighted style loss of ``photos`` (each ``3×H×W`` in [0, 1]) against the loss's
    first style, at its style weight and that style's scale."""
    if not photos:
        raise ConfigError("measuring a painting's pull needs at least one photo")
    return statistics.mean(loss_terms(loss, p[None], p[None])[1] for p in photos)


def auto_style_weight(pull: float, *, target: float, style_weight: float) -> float:
    """The style weight that turns a painting's ``pull`` (measured at ``style_weight``) into
    ``target``: ``style_weight × target / pull``."""
    if not pull > 0:
        raise ConfigError(
            f"the painting's style loss on the photos is {pull:g}: it cannot be evened out; "
            "give painting.style_weight=<number>"
        )
    if not target > 0:
        raise ConfigError(f"auto_style_weight.pull must be > 0, got {target}")
    return style_weight * target / pull
