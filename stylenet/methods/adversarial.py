"""Fooling images: small perturbations that change a classifier's answer.

- FGSM (Goodfellow, Shlens and Szegedy 2015): one step ``x + ε·sign(∇ₓ CE(f(x), y))`` away
  from the label ``y`` (untargeted).
- Iterative targeted attack (Kurakin, Goodfellow and Bengio 2017; projected as in Madry et
  al. 2018): repeated steps ``x - α·sign(∇ₓ CE(f(x), t))`` towards the target ``t``, each
  projected back into the L∞ ball ``‖x - x₀‖∞ ≤ ε`` and onto [0, 1].
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from stylenet.errors import ConfigError


@dataclass(frozen=True)
class AttackResult:
    """The adversarial image and what it did (confidences are softmax probabilities)."""

    image: torch.Tensor  # 1×3×H×W in [0, 1]
    original_class: int
    original_confidence: float
    adversarial_class: int
    adversarial_confidence: float
    target: int | None
    target_confidence_before: float | None
    target_confidence_after: float | None
    linf: float  # max |δ| in [0, 1] pixel units
    l2: float  # ‖δ‖₂ over all pixels and channels
    steps: int


def probabilities(model: nn.Module, image: torch.Tensor) -> torch.Tensor:
    """Softmax of the model's scores for ``1×3×H×W`` → ``K``."""
    with torch.no_grad():
        return F.softmax(model(image).float(), dim=1)[0]


def _loss_gradient(model: nn.Module, x: torch.Tensor, label: int) -> torch.Tensor:
    x = x.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        loss = F.cross_entropy(model(x), torch.tensor([label], device=x.device))
        (grad,) = torch.autograd.grad(loss, x)
    return grad


def _check_epsilon(epsilon: float) -> None:
    if not 0 < epsilon <= 1:
        raise ConfigError(f"epsilon must be in (0, 1] (pixel units of [0, 1]), got {epsilon}")


def fgsm(
    model: nn.Module, image: torch.Tensor, epsilon: float, label: int | None = None
) -> AttackResult:
    """Fast gradient sign method on ``1×3×H×W``; ``label`` defaults to the predicted class."""
    _check_epsilon(epsilon)
    x0 = image.detach()
    before = probabilities(model, x0)
    label = int(before.argmax()) if label is None else label
    adversarial = (x0 + epsilon * _loss_gradient(model, x0, label).sign()).clamp(0, 1)
    return _result(model, x0, adversarial, before, None, steps=1)


def targeted_attack(
    model: nn.Module,
    image: torch.Tensor,
    target: int,
    epsilon: float = 8 / 255,
    step_size: float = 1 / 255,
    steps: int = 50,
    confidence: float = 0.9,
    progress: bool = True,
) -> AttackResult:
    """Iterative targeted L∞ attack: push ``1×3×H×W`` ``image`` to class ``target``.

    Stops early once the target is the top class with probability ≥ ``confidence``.
    """
    _check_epsilon(epsilon)
    if steps < 1 or step_size <= 0:
        raise ConfigError(f"need steps >= 1 and step_size > 0, got {steps}, {step_size}")
    x0 = image.detach()
    before = probabilities(model, x0)
    if not 0 <= target < before.numel():
        raise ConfigError(
            f"target {target} is out of range; the model has {before.numel()} classes"
        )
    x = x0.clone()
    done = 0
    bar = tqdm(total=steps, desc="attack", disable=not progress)
    while done < steps:
        done += 1
        x = x - step_size * _loss_gradient(model, x, target).sign()
        x = torch.min(torch.max(x, x0 - epsilon), x0 + epsilon).clamp(0, 1)
        probs = probabilities(model, x)
        bar.update()
        bar.set_postfix(target_p=f"{float(probs[target]):.3f}")
        if int(probs.argmax()) == target and float(probs[target]) >= confidence:
            break
    bar.close()
    return _result(model, x0, x, before, target, steps=done)


def _result(
    model: nn.Module,
    x0: torch.Tensor,
    x: torch.Tensor,
    before: torch.Tensor,
    target: int | None,
    steps: int,
) -> AttackResult:
    after = probabilities(model, x)
    delta = x - x0
    return AttackResult(
        image=x.detach(),
        original_class=int(before.argmax()),
        original_confidence=float(before.max()),
        adversarial_class=int(after.argmax()),
        adversarial_confidence=float(after.max()),
        target=target,
        target_confidence_before=None if target is None else float(before[target]),
        target_confidence_after=None if target is None else float(after[target]),
        linf=float(delta.abs().max()),
        l2=float(delta.norm()),
        steps=steps,
    )
