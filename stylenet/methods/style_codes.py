"""A multi-style network's styles as vectors: the per-style (γ, β) of its conditional instance
norms (Dumoulin, Shlens and Kudlur 2017), which is all that differs between its styles."""

from __future__ import annotations

import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.nn.norms import ConditionalInstanceNorm2d


def style_codes(net: nn.Module) -> torch.Tensor:
    """``S×D``: for each style, every conditional norm's γ then β, concatenated in module order."""
    norms = [m for m in net.modules() if isinstance(m, ConditionalInstanceNorm2d)]
    if not norms:
        raise ConfigError(
            "the network has no conditional instance norms: embed.of=styles needs a "
            "multi-style checkpoint (e.g. training/multi_style/checkpoints/last.ckpt)"
        )
    parts = [torch.cat([m.gamma, m.beta], dim=1) for m in norms]
    return torch.cat(parts, dim=1).detach().float()
