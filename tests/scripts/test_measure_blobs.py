from __future__ import annotations

import pytest
import torch

from stylenet.nn.transformer import ConvNormAct, TransformerNet
from tests.conftest import load_script

measure_blobs = load_script("measure_blobs")


def tiny_multi_style() -> TransformerNet:
    torch.manual_seed(0)
    net = TransformerNet(width=0.125, num_res_blocks=1, norm="conditional_instance", num_styles=2)
    with torch.no_grad():
        for module in net.modules():
            if hasattr(module, "gamma"):
                module.gamma.normal_(1.0, 0.5)
                module.beta.normal_(0.0, 0.5)
    return net.eval()


@pytest.mark.slow
def test_clamped_norms_bound_every_normalised_output() -> None:
    net = tiny_multi_style()
    weights = torch.tensor([[0.0, 1.0]])
    image = measure_blobs.synthetic_inputs(64)[1]
    image[..., 30:33, 30:33] = 255.0  # a spike that reaches many σ
    limit = 1.5
    with torch.no_grad():
        before = net(image, weights)
    seen: list[tuple[torch.Tensor, torch.Tensor]] = []
    norms = [m.norm for m in net.modules() if isinstance(m, ConvNormAct) and m.norm is not None]
    with torch.no_grad(), measure_blobs.clamped_norms(net, limit):
        # registered after the clamp, so these see the clamped outputs
        handles = [n.register_forward_hook(lambda m, i, o: seen.append((m, o))) for n in norms]
        clamped = net(image, weights)
        for handle in handles:
            handle.remove()
    with torch.no_grad():
        plain = net(image, weights)
    assert not torch.allclose(clamped, plain)  # the clamp changed the picture
    assert torch.equal(before, plain)  # and was removed on exit
    for module, out in seen:
        gamma, beta = (weights @ module.gamma)[0], (weights @ module.beta)[0]
        low = (beta - limit * gamma.abs())[:, None, None] - 1e-4
        high = (beta + limit * gamma.abs())[:, None, None] + 1e-4
        assert ((out[0] >= low) & (out[0] <= high)).all()


@pytest.mark.slow
def test_main_scores_a_checkpoint(tmp_path, capsys) -> None:
    net = tiny_multi_style()
    file = tmp_path / "tiny" / "checkpoints" / "last.ckpt"
    file.parent.mkdir(parents=True)
    state = {f"net.{key}": value for key, value in net.state_dict().items()}
    torch.save(
        {"state_dict": state, "hyper_parameters": {"model": net.config, "styles": ["a", "b"]}}, file
    )
    measure_blobs.main(
        ["--checkpoints", str(file), "--photos", "0", "--size", "64", "--clamp", "2"]
    )
    out = capsys.readouterr().out
    lines = [line.split() for line in out.splitlines() if line.startswith("tiny")]
    assert [line[:2] for line in lines] == [
        ["tiny", "a"],
        ["tiny", "clamp"],
        ["tiny", "b"],
        ["tiny", "clamp"],
    ]
    assert all(float(line[-1]) > 0 for line in lines)  # peak σ
