"""Perceptual losses (content, style via Gram matrices), total variation, a pixel-range
penalty and a penalty on instance-norm spikes (blob artefacts)."""

from stylenet.losses.gram import gram_matrix, mix_grams
from stylenet.losses.perceptual import LossTerms, PerceptualLoss, content_loss, style_loss
from stylenet.losses.range import RangePenalty, range_penalty
from stylenet.losses.spikes import NormSpikes, SpikePenalty, spike_penalty
from stylenet.losses.tv import TotalVariation, total_variation

__all__ = [
    "LossTerms",
    "NormSpikes",
    "PerceptualLoss",
    "RangePenalty",
    "SpikePenalty",
    "TotalVariation",
    "content_loss",
    "gram_matrix",
    "mix_grams",
    "range_penalty",
    "spike_penalty",
    "style_loss",
    "total_variation",
]
