"""Gradient saliency maps: which pixels does a score depend on?

- vanilla gradient (Simonyan, Vedaldi and Zisserman 2014): ``max_c |∂score/∂x_c|``;
- SmoothGrad (Smilkov et al. 2017): the same averaged over noisy copies of the image;
- guided backpropagation (Springenberg et al. 2015): ReLUs pass back only positive
  gradients where their input was positive (hooks, removed afterwards);
- the gradient of one intermediate neuron (a channel at one position of a layer).

All take a score model (``N×3×H×W`` [0, 1] → ``N×K``, see :mod:`stylenet.nn.classifiers`)
and one image ``1×3×H×W``; they return an ``H×W`` map (not normalised) and never change the
model or the image.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import torch
from torch import nn

from stylenet.errors import ConfigError
from stylenet.nn.classifiers import find_module
from stylenet.nn.hooks import capture_output


def pick_target(scores: torch.Tensor, target: int | None) -> int:
    """``target`` if given (checked against ``K``), else the top-scoring class of ``1×K``."""
    if target is None:
        return int(scores[0].argmax())
    if not 0 <= target < scores.shape[1]:
        raise ConfigError(
            f"target {target} is out of range; the model has {scores.shape[1]} classes"
        )
    return int(target)


def input_gradient(model: nn.Module, image: torch.Tensor, target: int) -> torch.Tensor:
    """``∂ score[target] / ∂ image`` for ``N×3×H×W`` images (score summed over the batch)."""
    x = image.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        score = model(x)[:, target].sum()
        (grad,) = torch.autograd.grad(score, x)
    return grad


def channel_max(grad: torch.Tensor) -> torch.Tensor:
    """``1×3×H×W`` (or ``3×H×W``) gradient → ``H×W`` map of ``max_c |grad|``."""
    return grad.abs().reshape(-1, *grad.shape[-2:]).amax(dim=0)


def vanilla(model: nn.Module, image: torch.Tensor, target: int) -> torch.Tensor:
    """Simonyan et al. (2014): ``H×W`` map ``max_c |∂score/∂x|``."""
    return channel_max(input_gradient(model, image, target))


def smoothgrad(
    model: nn.Module,
    image: torch.Tensor,
    target: int,
    samples: int = 16,
    noise: float = 0.15,
    batch_size: int = 8,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Smilkov et al. (2017): mean of ``|∂score/∂x|`` over ``samples`` noisy copies, ``H×W``.

    ``noise`` is the Gaussian std as a fraction of the image's value range.
    """
    sigma = noise * (float(image.max() - image.min()) or 1.0)
    total = torch.zeros_like(image[0])
    done = 0
    while done < samples:
        n = min(batch_size, samples - done)
        eps = torch.randn((n, *image.shape[1:]), generator=generator, dtype=image.dtype)
        grad = input_gradient(model, image + sigma * eps.to(image.device), target)
        total = total + grad.abs().sum(dim=0)
        done += n
    return (total / samples).amax(dim=0)


class _GuidedReLU(torch.autograd.Function):
    """ReLU whose backward keeps only positive gradients at positive inputs."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(x)
        return x.clamp(min=0)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        (x,) = ctx.saved_tensors
        return grad.clamp(min=0) * (x > 0).to(grad.dtype)


@contextlib.contextmanager
def guided_relus(model: nn.Module) -> Iterator[int]:
    """Within the block, every ``nn.ReLU`` of ``model`` backpropagates the guided way.

    Forward hooks replace each ReLU's output by a guided ReLU of its input (same values);
    they are removed on exit, so the model is unchanged afterwards. Yields the hook count.
    """
    relus = [m for m in model.modules() if isinstance(m, nn.ReLU)]
    if not relus:
        raise ConfigError(
            "guided backprop needs nn.ReLU modules and this model has none (functional or "
            "TorchScript ReLUs cannot be hooked); use method=vanilla or gradcam"
        )
    handles = [
        m.register_forward_hook(lambda _m, inp, _out: _GuidedReLU.apply(inp[0])) for m in relus
    ]
    try:
        yield len(handles)
    finally:
        for handle in handles:
            handle.remove()


def guided_backprop(model: nn.Module, image: torch.Tensor, target: int) -> torch.Tensor:
    """Springenberg et al. (2015): guided gradient, ``H×W`` map ``max_c |grad|``."""
    with guided_relus(model):
        return channel_max(input_gradient(model, image, target))


def guided_gradient(model: nn.Module, image: torch.Tensor, target: int) -> torch.Tensor:
    """The signed guided-backprop gradient ``1×3×H×W`` (for Guided Grad-CAM or display)."""
    with guided_relus(model):
        return input_gradient(model, image, target)


def neuron_gradient(
    model: nn.Module,
    image: torch.Tensor,
    layer: str,
    channel: int | None = None,
    position: tuple[int, int] | None = None,
) -> tuple[torch.Tensor, tuple[int, int, int]]:
    """Gradient of one neuron ``layer[channel, y, x]`` w.r.t. the pixels.

    ``channel`` defaults to the most active channel (spatial mean), ``position`` to where
    the channel is most active. Returns the ``H×W`` map ``max_c |grad|`` and the
    ``(channel, y, x)`` neuron used (position in the layer's grid).
    """
    module = find_module(model, layer)
    x = image.detach().clone().requires_grad_(True)
    with torch.enable_grad(), capture_output(module) as seen:
        model(x)
        act = seen[-1]
        if act.dim() != 4:
            raise ConfigError(f"layer {layer} outputs shape {tuple(act.shape)}, not N×C×h×w")
        if channel is None:
            channel = int(act[0].mean(dim=(1, 2)).argmax())
        if not 0 <= channel < act.shape[1]:
            raise ConfigError(f"channel {channel} is out of range; {layer} has {act.shape[1]}")
        fmap = act[0, channel]
        if position is None:
            flat = int(fmap.argmax())
            position = (flat // fmap.shape[1], flat % fmap.shape[1])
        y, x_pos = position
        if not (0 <= y < fmap.shape[0] and 0 <= x_pos < fmap.shape[1]):
            raise ConfigError(f"position {position} is outside {layer}'s {tuple(fmap.shape)} grid")
        (grad,) = torch.autograd.grad(fmap[y, x_pos], x)
    return channel_max(grad), (channel, int(y), int(x_pos))
