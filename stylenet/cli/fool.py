"""``stylenet-fool image=photo.jpg target=3``: FGSM or an iterative targeted attack."""

from __future__ import annotations

import dataclasses
import json

import torch
from omegaconf import DictConfig
from torch import nn

from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.cli.inspect_args import (
    classifier_from_cfg,
    device_from_cfg,
    image_from_cfg,
    optional_int,
)
from stylenet.cli.paths import output_path
from stylenet.data.atomic import atomic_path
from stylenet.data.images import save_image
from stylenet.errors import ConfigError
from stylenet.methods.adversarial import AttackResult, fgsm, targeted_attack
from stylenet.nn.classifiers import label_of


def attack_from_cfg(cfg: DictConfig, model: nn.Module, image: torch.Tensor) -> AttackResult:
    """Run the attack ``cfg.method`` names."""
    epsilon = require_positive("epsilon", cfg.epsilon, allow_zero=False)
    if cfg.method == "fgsm":
        return fgsm(model, image, epsilon, optional_int(cfg, "label"))
    if cfg.method != "targeted":
        raise ConfigError(f"method must be fgsm or targeted, got {cfg.method!r}")
    target = optional_int(cfg, "target")
    if target is None:
        raise ConfigError(
            "method=targeted needs target=<class index> (the class to make it predict)"
        )
    return targeted_attack(
        model, image, target, epsilon,
        step_size=require_positive("step_size", cfg.step_size, allow_zero=False),
        steps=int(require_positive("steps", cfg.steps, allow_zero=False)),
        confidence=float(cfg.confidence), progress=bool(cfg.progress),
    )  # fmt: skip


def report(result: AttackResult, model: nn.Module) -> dict[str, object]:
    """The attack's numbers (no image) with readable class names."""
    facts = {k: v for k, v in dataclasses.asdict(result).items() if k != "image"}
    facts["linf_255"] = result.linf * 255
    for key in ("original_class", "adversarial_class", "target"):
        if facts[key] is not None:
            facts[f"{key}_name"] = label_of(model, int(facts[key]))
    return facts


def run(cfg: DictConfig) -> AttackResult:
    """Attack ``cfg.image``; write the image, the perturbation picture and a JSON report."""
    device = device_from_cfg(cfg)
    image = image_from_cfg(cfg, device)
    out = output_path(cfg.output, "fooled.png")
    model = classifier_from_cfg(cfg, device)
    result = attack_from_cfg(cfg, model, image)
    delta = result.image - image
    scale = max(result.linf, 1e-12)
    save_image(result.image[0].cpu(), out)
    save_image((0.5 + 0.5 * delta / scale)[0].cpu(), out.with_name(f"{out.stem}_perturbation.png"))
    facts = report(result, model)
    with atomic_path(out.with_suffix(".json")) as tmp:
        tmp.write_text(json.dumps(facts, indent=2) + "\n")
    line = (
        f"fool: {facts['original_class_name']} ({result.original_confidence:.3f}) → "
        f"{facts['adversarial_class_name']} ({result.adversarial_confidence:.3f}); "
        f"‖δ‖∞ = {result.linf:.4f} ({result.linf * 255:.1f}/255), ‖δ‖₂ = {result.l2:.3f}"
    )
    if result.target is not None:
        line += (
            f"; target {facts['target_name']}: {result.target_confidence_before:.3f} → "
            f"{result.target_confidence_after:.3f} in {result.steps} steps"
        )
    print(f"{line}; wrote {out}")
    return result


@command(config_path=config_dir(), config_name="fool")
def main(cfg: DictConfig) -> None:
    exit_on_error(run, cfg)


if __name__ == "__main__":
    main()
