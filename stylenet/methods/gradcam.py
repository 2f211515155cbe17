"""Grad-CAM (Selvaraju et al. 2017): where in a conv layer's grid the evidence for a class is.

``cam = ReLU(Σ_k α_k A_k)`` with ``α_k`` the spatial mean of ``∂score/∂A_k`` over the layer's
activations ``A`` (``K×h×w``), upsampled bilinearly to the image.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from stylenet.errors import ConfigError
from stylenet.nn.classifiers import find_module
from stylenet.nn.hooks import capture_output


def last_spatial_layer(model: nn.Module, image: torch.Tensor) -> str:
    """Name of the last-run leaf module whose output is ``N×C×h×w`` with ``h·w > 1``.

    Found with one forward pass (hooks removed afterwards); for a ResNet this is the last
    block's ReLU (the ``layer4`` output), for a VGG the deepest ReLU.
    """
    order: list[str] = []
    handles = []
    for name, module in model.named_modules():
        if name and not list(module.children()):

            def hook(_m: nn.Module, _i: object, out: object, name: str = name) -> None:
                if isinstance(out, torch.Tensor) and out.dim() == 4 and out.shape[-2:].numel() > 1:
                    order.append(name)

            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(image)
    finally:
        for handle in handles:
            handle.remove()
    if not order:
        raise ConfigError("the model has no conv layer with a spatial output; Grad-CAM needs one")
    return display_name(order[-1])


def display_name(name: str) -> str:
    """Module path as users write it: without the score wrapper's ``model.``/``relus.`` prefix."""
    for prefix in ("model.", "relus."):
        if name.startswith(prefix):
            return name.removeprefix(prefix)
    return name


def gradcam(
    model: nn.Module,
    image: torch.Tensor,
    target: int,
    layer: str | None = None,
) -> tuple[torch.Tensor, str]:
    """Grad-CAM map ``H×W`` (≥ 0, not normalised) for ``target`` and the layer name used.

    ``layer`` names a submodule (dotted path, or a VGG layer such as ``relu5_4``); default:
    :func:`last_spatial_layer`.
    """
    name = layer or last_spatial_layer(model, image)
    module = find_module(model, name)
    x = image.detach().clone().requires_grad_(True)  # frozen models: grads flow via x
    with torch.enable_grad(), capture_output(module) as seen:
        score = model(x)[:, target].sum()
        act = seen[-1]
        if act.dim() != 4:
            raise ConfigError(f"layer {name} outputs shape {tuple(act.shape)}, not N×C×h×w")
        if not act.requires_grad:
            raise ConfigError(f"layer {name} is not on the score's gradient path")
        (grad,) = torch.autograd.grad(score, act)
    alpha = grad.mean(dim=(2, 3), keepdim=True)
    cam = F.relu((alpha * act.detach()).sum(dim=1, keepdim=True))
    cam = F.interpolate(cam, size=image.shape[-2:], mode="bilinear", align_corners=False)
    return cam[0, 0], name
