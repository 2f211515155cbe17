"""Keep a new style's whole-network steps only where they measure better.

A new style on a trained backbone (``experiment=new_style``) trains its (γ, β) first and then,
for the last steps, every parameter (:class:`StyleTransferModule`'s ``norms_only_steps``).
Fine-tuning the convolutions can help the new painting or undo what the backbone learnt, so
:class:`FinetuneGate` scores the network on a fixed set of photos (content + style, TV
excluded: :func:`~stylenet.lit.heldout.heldout_losses`) at the switch, keeps a copy of its
weights, scores it again after the last step and puts the copy back unless the score dropped.
It runs before the checkpoint callback (Lightning orders checkpoint callbacks last), so the
last checkpoint holds the better network; the verdict goes into the model card's facts.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import Callback

from stylenet.lit.heldout import heldout_losses
from stylenet.lit.style_module import StyleTransferModule

log = logging.getLogger(__name__)
FACT = "full_network"  # facts["new_style"][FACT]: the verdict


class FinetuneGate(Callback):
    """Scores the network at the switch to whole-network training and after the last step;
    keeps the whole-network steps only if they lowered the score (see the module doc).

    Args:
        photos: the photos it scores on, each ``3×H×W`` in [0, 1] (held-out ones if any).
        label: what the verdict says about the photos (e.g. ``8 val2017 photos, 256 px``).
    """

    def __init__(self, photos: Sequence[torch.Tensor], *, label: str = "") -> None:
        if not photos:
            raise ValueError("the fine-tune gate needs at least one photo to score on")
        self.photos = list(photos)
        self.label = label
        self.score: float | None = None  # at the switch
        self.weights: dict[str, torch.Tensor] | None = None  # the network at the switch

    def _module(self, module: L.LightningModule) -> StyleTransferModule:
        if not isinstance(module, StyleTransferModule):
            raise TypeError(f"the fine-tune gate scores a StyleTransferModule, not {type(module)}")
        return module

    def on_train_batch_start(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        module = self._module(pl_module)
        if module.norms_only_steps <= 0 or trainer.global_step != module.norms_only_steps:
            return
        if self.weights is None:  # the first whole-network step is next
            self.score = heldout_losses(module, self.photos)["loss"]
            self.weights = {k: v.detach().clone() for k, v in module.net.state_dict().items()}

    def on_train_batch_end(
        self, trainer: L.Trainer, pl_module: L.LightningModule, *args: Any, **kwargs: Any
    ) -> None:
        module = self._module(pl_module)
        if trainer.global_step != trainer.max_steps or self.weights is None:
            return
        score = heldout_losses(module, self.photos)["loss"]
        kept = score < float(self.score or 0.0)
        if not kept:
            module.net.load_state_dict(self.weights)
        facts = module.hparams["facts"].setdefault("new_style", {})
        facts[FACT] = {
            "kept": kept,
            "score_at_switch": round(float(self.score or 0.0), 1),
            "score_at_end": round(score, 1),
            "steps": int(trainer.max_steps) - module.norms_only_steps,
            "photos": self.label,
        }
        self.weights, self.score = None, None  # decided: the last checkpoint stays lean
        log.info(
            "whole-network steps %s: content + style %.4g at the switch, %.4g after them%s",
            "kept" if kept else "dropped",
            facts[FACT]["score_at_switch"],
            score,
            f" ({self.label})" if self.label else "",
        )

    def state_dict(self) -> dict[str, Any]:
        # tensors and floats only: checkpoints stay loadable with weights_only=True
        return {"score": self.score, "weights": self.weights}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.score = state_dict.get("score")
        self.weights = state_dict.get("weights")
