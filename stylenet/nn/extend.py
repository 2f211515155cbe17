"""Add styles to a trained network (Dumoulin, Shlens and Kudlur 2017, Sec. 4.3): keep the
convolutions, give each new style its own conditional instance-norm (γ, β), and train only
those. The existing styles' outputs stay bit-for-bit the same.
"""

from __future__ import annotations

import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.nn.norms import ConditionalInstanceNorm2d, InstanceNorm
from stylenet.nn.transformer import TransformerNet
from stylenet.styles import MULTI_STYLE_NORM


def _norm_rows(module: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
    """The ``S×C`` (γ, β) of a conditional norm, or ``1×C`` of an affine instance norm."""
    if isinstance(module, ConditionalInstanceNorm2d):
        return module.gamma.detach(), module.beta.detach()
    if isinstance(module, InstanceNorm):
        return module.norm.weight.detach()[None], module.norm.bias.detach()[None]
    raise ConfigError(f"cannot add styles to a network with {type(module).__name__} layers")


def add_styles(net: TransformerNet, count: int = 1) -> TransformerNet:
    """A copy of ``net`` with ``count`` more styles (conditional instance norm everywhere).

    Works for multi-style networks and for single-style instance-norm networks (which become
    two-style networks). New styles start from the mean (γ, β) of the existing ones.
    """
    if count < 1:
        raise ConfigError(f"count must be >= 1, got {count}")
    old_norms = _norm_layers(net)
    if not old_norms or any(isinstance(m, nn.BatchNorm2d) for m in net.modules()):
        raise ConfigError(
            f"styles can be added only to instance-norm networks, not norm={net.config['norm']}"
        )
    old_styles = _norm_rows(old_norms[0])[0].shape[0]
    config = dict(net.config, norm=MULTI_STYLE_NORM, num_styles=old_styles + count)
    extended = TransformerNet(**config)
    conv_weights = {k: v for k, v in net.state_dict().items() if ".norm." not in f".{k}"}
    missing, _ = extended.load_state_dict(conv_weights, strict=False)
    new_norms = _conditional_norms(extended)
    with torch.no_grad():
        for old, new in zip(old_norms, new_norms, strict=True):
            gamma, beta = _norm_rows(old)
            new.gamma.copy_(torch.cat([gamma, gamma.mean(0, keepdim=True).expand(count, -1)]))
            new.beta.copy_(torch.cat([beta, beta.mean(0, keepdim=True).expand(count, -1)]))
    unexpected = [k for k in missing if not k.endswith((".gamma", ".beta"))]
    if unexpected:
        raise ConfigError(f"network layout mismatch while adding styles: {unexpected[:3]}")
    return extended


def train_only_styles(net: TransformerNet, styles: list[int]) -> None:
    """Freeze everything but the (γ, β) rows of ``styles``; other rows get zero gradients."""
    net.requires_grad_(False)
    norms = _conditional_norms(net)
    if not norms:
        raise ConfigError(
            "only the styles of a multi-style (conditional instance norm) network train"
        )
    keep = torch.zeros(net.num_styles, 1)
    keep[styles] = 1.0
    for norm in norms:
        for parameter in (norm.gamma, norm.beta):
            parameter.requires_grad_(True)
            parameter.register_hook(lambda grad, keep=keep: grad * keep.to(grad))


def _norm_layers(net: TransformerNet) -> list[nn.Module]:
    return [m for m in net.modules() if isinstance(m, (ConditionalInstanceNorm2d, InstanceNorm))]


def _conditional_norms(net: TransformerNet) -> list[ConditionalInstanceNorm2d]:
    return [m for m in net.modules() if isinstance(m, ConditionalInstanceNorm2d)]
