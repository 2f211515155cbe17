"""Score models: torchvision names, saved files, VGG channels, and one-line errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from stylenet.errors import ConfigError, ModelFileError, WeightsError
from stylenet.nn.classifiers import (
    ImageClassifier,
    VGGChannels,
    find_module,
    label_of,
    load_classifier,
)
from stylenet.nn.hooks import capture_output, layer_function
from stylenet.nn.vgg import VGGFeatures


def tiny() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(3, 4, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(4, 3),
    ).eval()


@pytest.mark.parametrize("pooling", ["max", "avg"])
def test_vgg_channels_match_vgg_features(pooling: str) -> None:
    vgg = VGGFeatures(["relu2_1"], weights="random", pooling=pooling)
    model = VGGChannels(vgg, "relu2_1")
    x = torch.rand(2, 3, 32, 32)
    expected = vgg(x)["relu2_1"]
    assert torch.allclose(model.features(x), expected)
    assert torch.allclose(model(x), expected.mean(dim=(2, 3)))
    assert find_module(model, "relu1_2") is model.relus["relu1_2"]
    with pytest.raises(ConfigError, match="relu1_1"):
        find_module(model, "relu5_1")


def test_load_vgg_key_gives_channels() -> None:
    model = load_classifier("random", layer="relu1_2")
    assert isinstance(model, VGGChannels)
    assert model(torch.rand(1, 3, 16, 16)).shape == (1, 64)
    assert not any(p.requires_grad for p in model.parameters())


def test_torchvision_by_name_random_and_missing_weights(tmp_path, monkeypatch) -> None:
    model = load_classifier("resnet18", weights="none")
    assert isinstance(model, ImageClassifier) and not model.training
    assert model(torch.rand(1, 3, 32, 32)).shape == (1, 1000)
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))  # an empty hub cache
    with pytest.raises(WeightsError, match="weights=none") as error:
        load_classifier("resnet18", weights="default")
    assert "\n" not in str(error.value)
    with pytest.raises(ConfigError, match="unknown weights"):
        load_classifier("resnet18", weights="NOPE")
    with pytest.raises(ConfigError, match="unknown classifier"):
        load_classifier("no_such_net")


def test_torchvision_weights_from_the_hub_cache(tmp_path, monkeypatch) -> None:
    import torchvision

    weights = torchvision.models.SqueezeNet1_1_Weights.DEFAULT
    cache = tmp_path / "hub" / "checkpoints" / Path(weights.url).name
    cache.parent.mkdir(parents=True)
    reference = torchvision.models.squeezenet1_1(weights=None).eval()
    torch.save(reference.state_dict(), cache)  # stands in for the downloaded file
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    model = load_classifier("squeezenet1_1")
    x = torch.rand(1, 3, 64, 64)
    assert torch.allclose(model(x), ImageClassifier(reference)(x), atol=1e-5)
    assert label_of(model, 207) == "207 (golden retriever)"


def test_saved_module_and_torchscript_files(tmp_path: Path) -> None:
    net = tiny()
    x = torch.rand(1, 3, 16, 16)
    pickled, scripted = tmp_path / "net.pt", tmp_path / "net.ts"
    torch.save(net, pickled)
    with pytest.warns(FutureWarning):
        torch.jit.save(torch.jit.script(net), str(scripted))
    for path in (pickled, scripted):
        model = load_classifier(str(path), normalize="none")
        assert torch.allclose(model(x), net(x), atol=1e-6)
    imagenet = load_classifier(str(pickled))
    assert not torch.allclose(imagenet(x), net(x))


def test_bad_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        load_classifier(str(tmp_path / "missing.pt"))
    state = tmp_path / "state.pt"
    torch.save(tiny().state_dict(), state)
    with pytest.raises(ModelFileError, match="state_dict"):
        load_classifier(str(state))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="cannot read"):
        load_classifier(str(junk))
    with pytest.raises(ConfigError, match="normalize"):
        load_classifier(str(state), normalize="zscore")


def test_hooks_capture_without_changing_the_model() -> None:
    net = tiny()
    x = torch.rand(1, 3, 8, 8)
    before = net(x)
    with capture_output(net[1]) as seen:
        out = net(x)
    assert torch.equal(out, before) and seen[0].shape == (1, 4, 8, 8)
    features = layer_function(ImageClassifier(net, None, None), "0")
    assert torch.allclose(features(x), net[0](x))
    assert torch.equal(net(x), before)


def test_label_of() -> None:
    model = ImageClassifier(tiny(), labels=["cat", "dog", "fox"])
    assert label_of(model, 1) == "1 (dog)"
    assert label_of(tiny(), 1) == "1"
