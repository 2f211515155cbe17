"""Tiny transformer networks for export and serving tests."""

from __future__ import annotations

from typing import Any

import torch

from stylenet.nn.transformer import TransformerNet

STYLES = ["starry", "wave", "udnie"]
FACTS = {"steps": 40000, "content_weight": 1.0, "style_weight": 5.0}


def tiny_net(**kwargs: Any) -> TransformerNet:
    return TransformerNet(width=0.125, num_res_blocks=1, **kwargs).eval()


def multi_style_net() -> TransformerNet:
    """A 3-style conditional-instance-norm net with distinct random (γ, β) per style."""
    torch.manual_seed(1)
    net = tiny_net(norm="conditional_instance", num_styles=len(STYLES))
    with torch.no_grad():
        for module in net.modules():
            if hasattr(module, "gamma"):
                module.gamma.uniform_(0.3, 1.7)
                module.beta.normal_(0.0, 0.5)
    return net
