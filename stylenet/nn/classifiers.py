"""Score models for the "looking inside" methods: anything that maps an image to N×K scores.

A score model takes ``N×3×H×W`` RGB in [0, 1] and returns ``N×K`` scores (logits for a
classifier; the spatial mean of each channel for a VGG layer), owns its input normalisation
and is in eval mode. :func:`load_classifier` builds one from

- a torchvision classifier name (``resnet18``; weights from the torch hub cache,
  ``weights=none`` for a random initialisation, or ``weights=FILE``: a state dict saved with
  ``torch.save(model.state_dict(), FILE)``, e.g. a fine-tuned copy with its own class count),
- a model file holding a whole module made only of ``torch.nn`` layers
  (``torch.save(nn.Sequential(...), FILE)``),
- a :class:`~stylenet.nn.vgg.VGGFeatures` weight key (``vgg19_caffe``): the channels of one
  layer act as the "classes".

Files are read weights-only (:mod:`stylenet.nn.model_files`): nothing in them runs. Modules of
custom classes, TorchScript and ``torch.export`` files are refused with what to give instead.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from stylenet.errors import ConfigError, ModelFileError, WeightsError
from stylenet.nn.model_files import load_weights, read_module, read_state_dict
from stylenet.nn.vgg import VGGFeatures
from stylenet.nn.vgg_weights import VGGWeights

Triple = tuple[float, float, float]
IMAGENET_MEAN: Triple = (0.485, 0.456, 0.406)
IMAGENET_STD: Triple = (0.229, 0.224, 0.225)
MODEL_FILE_SUFFIXES = (".pt", ".pth", ".ts", ".jit", ".pt2", ".ptl", ".bin")
INSTEAD = (
    "give classifier=<torchvision name> weights=<file saved with "
    "torch.save(model.state_dict(), file)>, or a module made only of torch.nn layers"
)


class ImageClassifier(nn.Module):
    """``model((x - mean) / std)``: a classifier that takes RGB in [0, 1].

    ``forward(x: N×3×H×W) -> N×K`` logits; ``labels`` names the K classes when known.
    """

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(
        self,
        model: nn.Module,
        mean: tuple[float, float, float] | None = IMAGENET_MEAN,
        std: tuple[float, float, float] | None = IMAGENET_STD,
        labels: list[str] | None = None,
    ) -> None:
        super().__init__()
        self.model = model
        self.labels = labels
        mean_t = torch.tensor(mean if mean is not None else (0.0, 0.0, 0.0))
        std_t = torch.tensor(std if std is not None else (1.0, 1.0, 1.0))
        self.register_buffer("mean", mean_t.view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", std_t.view(1, 3, 1, 1), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scores = self.model((x - self.mean) / self.std)
        if scores.dim() != 2:
            raise ModelFileError(
                f"the classifier returned shape {tuple(scores.shape)}; it must return N×K scores"
            )
        return scores


class VGGChannels(nn.Module):
    """The channels of one VGG layer as scores: ``forward(x) -> N×C`` spatial means.

    Re-runs the frozen convolutions of ``vgg`` with one ``nn.ReLU`` module per layer
    (``relus[name]``), so hooks (guided backprop, Grad-CAM, neurons) can reach every layer.
    """

    def __init__(self, vgg: VGGFeatures, layer: str) -> None:
        super().__init__()
        if layer not in vgg.depth_names:
            raise ConfigError(f"layer {layer} is not computed by this VGG; use one of {vgg.layers}")
        self.vgg = vgg
        self.layer = layer
        self.names = vgg.depth_names[: vgg.depth_names.index(layer) + 1]
        self.relus = nn.ModuleDict({name: nn.ReLU() for name in self.names})
        self.labels = None
        self.eval()

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """``N×3×H×W`` [0, 1] → the layer's activations ``N×C×h×w``."""
        h = self.vgg.normalize(x)
        previous_block = 1
        for conv, name in zip(self.vgg.convs, self.names, strict=False):
            block = int(name[4])
            if block != previous_block:
                pool = F.avg_pool2d if self.vgg.pooling == "avg" else F.max_pool2d
                h = pool(h, kernel_size=2, stride=2)
                previous_block = block
            h = self.relus[name](conv(h))
        return h

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x).mean(dim=(2, 3))


def find_module(model: nn.Module, name: str) -> nn.Module:
    """The submodule called ``name`` (a dotted path, or a VGG layer like ``relu4_2``)."""
    if isinstance(model, VGGChannels) and name in model.relus:
        return model.relus[name]
    modules = dict(model.named_modules())
    for candidate in (name, f"model.{name}"):
        if candidate in modules:
            return modules[candidate]
    if isinstance(model, VGGChannels):
        hint = f"one of {model.names[0]} … {model.names[-1]}"
    else:
        names = [
            n.removeprefix("model.") for n, m in modules.items() if n and not list(m.children())
        ]
        hint = f"a module name such as {', '.join(names[-3:])}"
    raise ConfigError(f"the model has no layer {name!r}; use {hint}")


def load_classifier(
    name: str,
    weights: str = "default",
    layer: str = "relu5_4",
    normalize: str = "imagenet",
) -> nn.Module:
    """Build a score model (eval mode, frozen) from a name, a file or a VGG weight key.

    ``weights`` applies to torchvision names (``default``, ``none`` or an enum member such as
    ``IMAGENET1K_V1``); ``layer`` to VGG keys; ``normalize`` (``imagenet`` or ``none``) to
    saved model files.
    """
    vgg_keys = [member.key for member in VGGWeights]
    if name in vgg_keys:
        model: nn.Module = VGGChannels(VGGFeatures([layer], weights=name), layer)
    elif Path(name).suffix in MODEL_FILE_SUFFIXES or Path(name).exists():
        mean, std = _normalization(normalize)
        model = ImageClassifier(load_model_file(Path(name)), mean, std)
    else:
        model = _torchvision_classifier(name, weights)
    model.requires_grad_(False)
    return model.eval()


def _normalization(name: str) -> tuple[Triple | None, Triple | None]:
    if name == "imagenet":
        return IMAGENET_MEAN, IMAGENET_STD
    if name == "none":
        return None, None
    raise ConfigError(f"normalize must be 'imagenet' or 'none', got {name!r}")


def load_model_file(path: Path) -> nn.Module:
    """A whole module of ``torch.nn`` layers saved with ``torch.save(module, path)``.

    Read weights-only; state dicts, custom classes, TorchScript and ``torch.export`` files
    raise :class:`ModelFileError` saying what to give instead.
    """
    loaded = read_module(path, instead=INSTEAD)
    if not isinstance(loaded, nn.Module):
        raise ModelFileError(
            f"{path} holds a state_dict, not a model; give classifier=<torchvision name> "
            f"weights={path} (the architecture it was saved from)"
        )
    return loaded


def _torchvision_classifier(name: str, weights: str) -> nn.Module:
    import torchvision.models as tvm

    known = tvm.list_models(module=tvm)
    if name not in known:
        raise ConfigError(
            f"unknown classifier {name!r}; use a torchvision name (e.g. resnet18, "
            f"mobilenet_v3_small), a torch.nn module file (.pt/.pth) or vgg19_caffe"
        )
    if weights in ("none", "random", None):
        return ImageClassifier(tvm.get_model(name, weights=None))
    if is_weights_file(weights):
        return _torchvision_from_file(name, Path(weights))
    enum_cls = tvm.get_model_weights(name)
    try:
        chosen = enum_cls.DEFAULT if weights == "default" else enum_cls[weights]
    except KeyError as error:
        options = ", ".join(["default", "none", *enum_cls.__members__])
        raise ConfigError(
            f"unknown weights {weights!r} for {name}; use one of {options}"
        ) from error
    cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(chosen.url).name
    if not cache.is_file():
        raise WeightsError(
            f"{name} weights {chosen} are not in the torch hub cache ({cache}) and there is "
            f"no download here; copy the file there, or use weights=none (random init), "
            f"a saved model file, or classifier=vgg19_caffe (VGG channels)"
        )
    try:
        model = tvm.get_model(name, weights=chosen)
    except Exception as error:
        raise WeightsError(
            f"cannot load {cache} ({type(error).__name__}); delete it and re-fetch"
        ) from error
    return ImageClassifier(model, labels=list(chosen.meta.get("categories", [])) or None)


def is_weights_file(weights: str) -> bool:
    """True when ``weights=`` names a state-dict file rather than a torchvision enum member."""
    return Path(weights).suffix in MODEL_FILE_SUFFIXES or Path(weights).is_file()


def _torchvision_from_file(name: str, file: Path) -> nn.Module:
    """torchvision ``name`` with the state dict in ``file``; the class count follows the file."""
    import torchvision.models as tvm

    state = read_state_dict(
        file,
        instead=f"save the weights with torch.save(model.state_dict(), file) from a {name}",
    )
    model = tvm.get_model(name, weights=None)
    expected = model.state_dict()
    # A fine-tuned copy differs only in its last layer's rows: rebuild with that class count.
    differing = {
        int(state[key].shape[0])
        for key in expected
        if key in state and state[key].dim() > 0 and state[key].shape != expected[key].shape
    }
    if len(differing) == 1:
        with contextlib.suppress(TypeError, ValueError):  # else load_weights names it
            model = tvm.get_model(name, weights=None, num_classes=differing.pop())
    load_weights(model, state, file)
    return ImageClassifier(model)


def label_of(model: nn.Module, index: int) -> str:
    """``"207 (golden retriever)"`` when the model knows its labels, else ``"207"``."""
    labels = getattr(model, "labels", None)
    if labels and 0 <= index < len(labels):
        return f"{index} ({labels[index]})"
    return str(index)
