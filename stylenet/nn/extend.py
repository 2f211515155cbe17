"""Add styles to a trained network (Dumoulin, Shlens and Kudlur 2017, Sec. 4.3): keep the
convolutions, give each new style its own conditional instance-norm (γ, β), and train only
those. The existing styles' outputs stay bit-for-bit the same.

:func:`single_style` takes a trained network's convolutions into a plain single-style
(instance-norm) network instead, its (γ, β) started from some of the trained styles': a new
style trained on top of a multi-style backbone (``experiment=new_style``).
"""

from __future__ import annotations

from collections.abc import Sequence

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
    old_styles = style_count(net)
    config = dict(net.config, norm=MULTI_STYLE_NORM, num_styles=old_styles + count)
    extended = TransformerNet(**config)
    _copy_convolutions(net, extended)
    new_norms = _conditional_norms(extended)
    with torch.no_grad():
        for old, new in zip(old_norms, new_norms, strict=True):
            gamma, beta = _norm_rows(old)
            new.gamma.copy_(torch.cat([gamma, gamma.mean(0, keepdim=True).expand(count, -1)]))
            new.beta.copy_(torch.cat([beta, beta.mean(0, keepdim=True).expand(count, -1)]))
    return extended


def style_count(net: TransformerNet) -> int:
    """How many styles' (γ, β) the norm layers of ``net`` hold (1 for instance norm)."""
    norms = _norm_layers(net)
    if not norms or any(isinstance(m, nn.BatchNorm2d) for m in net.modules()):
        raise ConfigError(
            f"only instance-norm networks have per-style (γ, β), not norm={net.config['norm']}"
        )
    return int(_norm_rows(norms[0])[0].shape[0])


def single_style(net: TransformerNet, styles: Sequence[int]) -> TransformerNet:
    """A single-style (instance norm) copy of ``net``: its convolutions, and in every norm
    layer the mean (γ, β) of its ``styles`` (one index: that style's own rows)."""
    count = style_count(net)
    picks = sorted({int(index) for index in styles})
    if not picks or not all(0 <= index < count for index in picks):
        raise ConfigError(f"styles to start from must be among 0..{count - 1}, got {list(styles)}")
    single = TransformerNet(**dict(net.config, norm="instance", num_styles=1))
    _copy_convolutions(net, single)
    targets = [m for m in single.modules() if isinstance(m, InstanceNorm)]
    with torch.no_grad():
        for old, new in zip(_norm_layers(net), targets, strict=True):
            gamma, beta = _norm_rows(old)
            new.norm.weight.copy_(gamma[picks].mean(0))
            new.norm.bias.copy_(beta[picks].mean(0))
    return single


def norm_parameters(net: TransformerNet) -> list[nn.Parameter]:
    """The (γ, β) of every instance-norm layer (conditional: all styles' rows), in layer order."""
    params: list[nn.Parameter] = []
    for module in _norm_layers(net):
        if isinstance(module, ConditionalInstanceNorm2d):
            params += [module.gamma, module.beta]
        elif isinstance(module, InstanceNorm):
            params += [module.norm.weight, module.norm.bias]
    return params


def _copy_convolutions(source: TransformerNet, target: TransformerNet) -> list[str]:
    """Load every non-norm weight of ``source`` into ``target`` (same layout); the target's
    norm weights it left alone."""
    convs = {k: v for k, v in source.state_dict().items() if ".norm." not in f".{k}"}
    missing, _ = target.load_state_dict(convs, strict=False)
    unexpected = [k for k in missing if ".norm." not in f".{k}"]
    if unexpected:
        raise ConfigError(f"network layout mismatch while copying weights: {unexpected[:3]}")
    return missing


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
