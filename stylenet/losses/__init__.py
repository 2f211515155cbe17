"""Perceptual losses (content, style via Gram matrices) and total variation."""

from stylenet.losses.gram import gram_matrix, mix_grams
from stylenet.losses.perceptual import LossTerms, PerceptualLoss, content_loss, style_loss
from stylenet.losses.tv import TotalVariation, total_variation

__all__ = [
    "LossTerms",
    "PerceptualLoss",
    "TotalVariation",
    "content_loss",
    "gram_matrix",
    "mix_grams",
    "style_loss",
    "total_variation",
]
