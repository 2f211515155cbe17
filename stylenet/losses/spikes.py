"""A penalty on localised spikes in instance-normalised activations, the cause of blob artefacts.

A network with instance norm (or conditional instance norm) can plant one strong, localised
spike in a channel: the spike dominates the channel's mean and variance, normalisation squashes
the rest of the channel, and the spike decodes to a round blob where the photo is flat (Karras
et al. 2020, "Analyzing and Improving the Image Quality of StyleGAN", Sec. 2;
:mod:`stylenet.methods.blobs` measures it). Karras et al. remove the normalisation; here the
network keeps it and pays for normalised values beyond ``limit`` standard deviations, so a
spike costs while ordinary activations (a few σ) cost nothing.
"""

from __future__ import annotations

import torch
from torch import nn

from stylenet.nn.transformer import is_instance_norm


def spike_penalty(x: torch.Tensor, limit: float = 4.0, eps: float = 1e-5) -> torch.Tensor:
    """``N×C×H×W`` activations → ``N``: the mean over channels and positions of
    ``relu(|x - μ| / sqrt(σ² + eps) - limit)²``, with ``μ, σ²`` per image and channel as instance
    norm computes them (in at least float32: half-precision inputs are promoted)."""
    x = x.to(torch.promote_types(x.dtype, torch.float32))
    mean = x.mean(dim=(2, 3), keepdim=True)
    std = (x.var(dim=(2, 3), unbiased=False, keepdim=True) + eps).sqrt()
    excess = torch.relu((x - mean).abs() / std - limit)
    return excess.square().mean(dim=(1, 2, 3))


class SpikePenalty(nn.Module):
    """Module form of :func:`spike_penalty`."""

    def __init__(self, limit: float = 4.0, eps: float = 1e-5) -> None:
        super().__init__()
        self.limit, self.eps = float(limit), float(eps)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return spike_penalty(x, self.limit, self.eps)


class NormSpikes:
    """Collects :func:`spike_penalty` of the input of every instance-norm layer of ``net``
    (:class:`~stylenet.nn.norms.InstanceNorm`, :class:`~stylenet.nn.norms.ConditionalInstanceNorm2d`)
    during its forward passes in training mode with gradients on; :meth:`pop` returns their sum.

    The hooks only read; the network's outputs are unchanged. :meth:`remove` takes them off.
    """

    def __init__(self, net: nn.Module, *, limit: float = 4.0) -> None:
        if limit < 0:
            raise ValueError(f"the spike limit must be >= 0 standard deviations, got {limit}")
        self.limit = float(limit)
        self._values: list[torch.Tensor] = []
        self._handles = [
            module.register_forward_pre_hook(self._hook)
            for module in net.modules()
            if is_instance_norm(module)
        ]
        if not self._handles:
            raise ValueError("the network has no instance-norm layer to watch for spikes")

    @property
    def num_layers(self) -> int:
        """How many norm layers are watched."""
        return len(self._handles)

    def _hook(self, module: nn.Module, inputs: tuple) -> None:
        if module.training and torch.is_grad_enabled():
            self._values.append(spike_penalty(inputs[0], self.limit).mean())

    def pop(self) -> torch.Tensor:
        """The summed penalty of the layers run since the last :meth:`pop` (a scalar, batch
        mean per layer; 0 when nothing ran), and forget them."""
        values, self._values = self._values, []
        if not values:
            return torch.zeros(())
        return torch.stack(values).sum()

    def clear(self) -> None:
        """Forget what was collected (e.g. a pass whose loss is not used)."""
        self._values = []

    def remove(self) -> None:
        """Take the hooks off the network."""
        for handle in self._handles:
            handle.remove()
        self._handles = []
        self._values = []
