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
    torch.testing.assert_close(model.features(x), expected)
    torch.testing.assert_close(model(x), expected.mean(dim=(2, 3)))
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
    torch.testing.assert_close(model(x), ImageClassifier(reference)(x), atol=1e-5, rtol=1e-5)
    assert label_of(model, 207) == "207 (golden retriever)"


def test_saved_modules_of_torch_nn_layers(tmp_path: Path) -> None:
    net = tiny()
    x = torch.rand(1, 3, 16, 16)
    pickled = tmp_path / "net.pt"
    torch.save(net, pickled)
    model = load_classifier(str(pickled), normalize="none")
    torch.testing.assert_close(model(x), net(x), atol=1e-6, rtol=1e-5)
    imagenet = load_classifier(str(pickled))
    assert not torch.allclose(imagenet(x), net(x))


@pytest.mark.slow
def test_torchvision_architecture_with_a_state_dict_file(tmp_path: Path) -> None:
    import torchvision

    x = torch.rand(1, 3, 64, 64)
    for classes in (1000, 5):  # as shipped, and fine-tuned to 5 classes
        reference = torchvision.models.squeezenet1_1(weights=None, num_classes=classes).eval()
        file = tmp_path / f"squeeze{classes}.pth"
        torch.save(reference.state_dict(), file)
        model = load_classifier("squeezenet1_1", weights=str(file))
        assert model(x).shape == (1, classes)
        assert torch.allclose(model(x), ImageClassifier(reference)(x), atol=1e-5)
    with pytest.raises(ModelFileError, match="does not fit the architecture"):
        load_classifier("resnet18", weights=str(tmp_path / "squeeze5.pth"))
    with pytest.raises(ModelFileError, match="model file not found"):
        load_classifier("squeezenet1_1", weights=str(tmp_path / "missing.pth"))


def test_files_that_could_run_code_are_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = tiny()
    hostile.hook = _Payload(marker)
    torch.save(hostile, tmp_path / "hostile.pt")
    torch.save({"fc.weight": _Payload(marker)}, tmp_path / "hostile_state.pth")
    scripted = tmp_path / "net.ts"
    with pytest.warns(FutureWarning):
        torch.jit.save(torch.jit.script(tiny()), str(scripted))
    cases = [
        (lambda: load_classifier(str(tmp_path / "hostile.pt")), "refusing to load"),
        (
            lambda: load_classifier("resnet18", weights=str(tmp_path / "hostile_state.pth")),
            "refusing to load",
        ),
        (lambda: load_classifier(str(scripted)), "TorchScript file is a program"),
    ]
    for load, message in cases:
        with pytest.raises(ModelFileError, match=message) as error:
            load()
        assert "\n" not in str(error.value)
    assert not marker.exists()


class _Payload:
    """Unpickling this calls ``Path.touch(marker)``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_bad_model_files(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        load_classifier(str(tmp_path / "missing.pt"))
    state = tmp_path / "state.pt"
    torch.save(tiny().state_dict(), state)
    with pytest.raises(ModelFileError, match=r"state_dict.*classifier=<torchvision name>"):
        load_classifier(str(state))
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a weights-only torch file"):
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
    torch.testing.assert_close(features(x), net[0](x))
    assert torch.equal(net(x), before)


def test_label_of() -> None:
    model = ImageClassifier(tiny(), labels=["cat", "dog", "fox"])
    assert label_of(model, 1) == "1 (dog)"
    assert label_of(tiny(), 1) == "1"
