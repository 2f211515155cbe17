"""Perceptual losses (content, style via Gram matrices), total variation and a pixel-range
penalty."""

from stylenet.losses.gram import gram_matrix, mix_grams
from stylenet.losses.perceptual import LossTerms, PerceptualLoss, content_loss, style_loss
from stylenet.losses.range import RangePenalty, range_penalty
from stylenet.losses.tv import TotalVariation, total_variation

__all__ = [
    "LossTerms",
    "PerceptualLoss",
    "RangePenalty",
    "TotalVariation",
    "content_loss",
    "gram_matrix",
    "mix_grams",
    "range_penalty",
    "style_loss",
    "total_variation",
]
