"""Which trained style a new style should start from.

A new style trained on a multi-style backbone (``experiment=new_style``) starts its (γ, β)
from the backbone's styles: their mean, or the *nearest* style, the one whose stylized photos
already score best (content + style loss, TV excluded: the held-out score of
:mod:`stylenet.lit.heldout`) against the new painting. Scoring the outputs, not the
paintings, needs nothing but the backbone and the new painting's loss.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from stylenet.errors import ConfigError
from stylenet.losses import PerceptualLoss
from stylenet.nn.transformer import TransformerNet


@torch.no_grad()
def style_scores(
    net: TransformerNet,
    loss: PerceptualLoss,
    photos: Sequence[torch.Tensor],
    styles: Sequence[int],
) -> list[float]:
    """The mean content + style loss of ``net``'s output for each of ``styles`` (indices into
    its styles) on ``photos`` (each ``3×H×W`` in [0, 1]) against ``loss``'s first style."""
    if not photos:
        raise ConfigError("scoring the styles to start from needs at least one photo")
    was_training = net.training
    net.eval()
    count = net.num_styles if net.is_multi_style else 1
    scores = []
    try:
        for index in styles:
            weights = None
            if net.is_multi_style:
                weights = torch.zeros(1, count)
                weights[0, int(index)] = 1.0
            total = 0.0
            for photo in photos:
                batch = photo[None].float()
                stylized = net(batch * 255.0, weights) / 255.0
                terms = loss(stylized, batch)
                total += float((terms.content + terms.style).sum())
            scores.append(total / len(photos))
    finally:
        net.train(was_training)
    return scores
