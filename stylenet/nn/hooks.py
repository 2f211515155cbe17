"""Forward hooks that read a module's output without changing the model (removed on exit)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch
from torch import nn

from stylenet.nn.classifiers import VGGChannels, find_module


@contextlib.contextmanager
def capture_output(module: nn.Module) -> Iterator[list[torch.Tensor]]:
    """Record ``module``'s output on every call (last call last); the hook is removed on exit.

    The hook hands a copy downstream, so later in-place ops cannot alter what was recorded.
    """
    seen: list[torch.Tensor] = []

    def hook(_m: nn.Module, _inp: object, out: torch.Tensor) -> torch.Tensor:
        seen.append(out)
        return out.clone()

    handle = module.register_forward_hook(hook)
    try:
        yield seen
    finally:
        handle.remove()


def layer_function(model: nn.Module, layer: str) -> Callable[[torch.Tensor], torch.Tensor]:
    """``x: N×3×H×W [0, 1] -> N×C×h×w``, the activations of ``layer`` in ``model``.

    A :class:`VGGChannels` model computes its own layer directly; for any other model the
    full forward pass runs with a hook on ``layer``.
    """
    if isinstance(model, VGGChannels) and layer == model.layer:
        return model.features
    module = find_module(model, layer)

    def features(x: torch.Tensor) -> torch.Tensor:
        with capture_output(module) as seen:
            model(x)
        return seen[-1]

    return features


def layers_function(
    model: nn.Module, layers: list[str]
) -> Callable[[torch.Tensor], dict[str, torch.Tensor]]:
    """``x -> {layer: activations}`` for several ``layers`` of ``model`` in one forward pass."""
    modules = {layer: find_module(model, layer) for layer in layers}

    def features(x: torch.Tensor) -> dict[str, torch.Tensor]:
        with contextlib.ExitStack() as stack:
            seen = {layer: stack.enter_context(capture_output(m)) for layer, m in modules.items()}
            model(x)
        return {layer: outputs[-1] for layer, outputs in seen.items()}

    return features
