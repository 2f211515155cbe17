"""Tiny transformer networks for export and serving tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from stylenet.nn.transformer import TransformerNet
from stylenet.styles import is_multi_style

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


def write_checkpoint(
    path: Path,
    styles: list[str],
    style_images: dict[str, str],
    style_weights: dict[str, float] | None = None,
) -> Path:
    """A training checkpoint of a tiny random network with ``styles`` (multi-style when there
    are several) and the facts the evaluation reads."""
    torch.manual_seed(0)
    norm = "conditional_instance" if is_multi_style(num_styles=len(styles)) else "instance"
    net = TransformerNet(0.125, 1, norm=norm, num_styles=len(styles))
    assert net.is_multi_style == (len(styles) > 1)
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "hyper_parameters": {
                "model": dict(net.config),
                "styles": styles,
                "facts": {"style_images": style_images, "style_weights": style_weights or {}},
            },
        },
        path,
    )
    return path
