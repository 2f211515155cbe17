"""Style codes: a multi-style network's styles as their (γ, β)."""

from __future__ import annotations

import pytest
import torch

from stylenet.errors import ConfigError
from stylenet.methods.style_codes import style_codes
from stylenet.nn.norms import ConditionalInstanceNorm2d
from stylenet.nn.transformer import TransformerNet


def test_one_row_per_style_with_every_norm() -> None:
    net = TransformerNet(width=0.125, num_res_blocks=1, norm="conditional_instance", num_styles=3)
    norms = [m for m in net.modules() if isinstance(m, ConditionalInstanceNorm2d)]
    with torch.no_grad():
        norms[0].gamma[1, 0] = 7.0
    codes = style_codes(net)
    assert codes.shape == (3, sum(2 * m.gamma.shape[1] for m in norms))
    assert codes[1, 0] == 7.0 and codes[0, 0] == 1.0


def test_single_style_network_is_refused() -> None:
    with pytest.raises(ConfigError, match="multi-style"):
        style_codes(TransformerNet(width=0.125, num_res_blocks=0))
