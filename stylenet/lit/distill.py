"""Knowledge distillation of a trained style network into a cheaper one (Hinton, Vinyals and
Dean 2015; for image-to-image networks, output and feature matching as in Wang et al. 2020,
*Collaborative Distillation*).

The student minimises the project's perceptual loss for the teacher's painting, with two
changes that let it converge far faster than from scratch:

- its content target is a blend of the photo's VGG features and the teacher's output's,
  ``(1 − s)·F(photo) + s·F(teacher(photo))`` (``teacher_share`` = s). The content loss is
  quadratic, so this equals ``(1 − s)·content(photo) + s·content(teacher)`` up to a constant:
  feature matching against the teacher at the price of one VGG pass, not two;
- a pixel term ``pixel_weight · mean((student − teacher)²)`` on the [0, 1] outputs.

Validation and the held-out score (:mod:`stylenet.lit.heldout`) stay the plain perceptual loss,
so a student is judged on what the teacher was judged on. Checkpoints leave the frozen teacher
out (it is loaded again from its own file) and keep its weights' SHA-256, so a run resumes only
after the teacher it started with.
"""

from __future__ import annotations

from typing import Any

import torch

from stylenet.errors import ConfigError
from stylenet.lit.schedule import resize_photos
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses import PerceptualLoss
from stylenet.nn.checkpoint import weights_checksum
from stylenet.nn.transformer import TransformerNet


def blended_targets(
    photo: dict[str, torch.Tensor], teacher: dict[str, torch.Tensor], share: float
) -> dict[str, torch.Tensor]:
    """``{layer: (1 − share)·photo + share·teacher}`` (new tensors; the inputs are kept)."""
    if share == 0.0:
        return photo
    return {layer: torch.lerp(photo[layer], teacher[layer], share) for layer in photo}


TEACHER = "teacher."  # the teacher's prefix in the module's state dict
TEACHER_CHECKSUM = "distill_teacher_sha256"  # checkpoint key: the teacher's weights_checksum


class DistillationModule(StyleTransferModule):
    """Trains the single-style ``net`` (the student) after the frozen ``teacher``.

    Args:
        net: the student network (instance norm, one style).
        loss: the perceptual loss with the teacher's painting as its one style target.
        teacher: the trained network to imitate (single-style; frozen, eval mode).
        teacher_share: s in [0, 1], the teacher's share of the content target.
        pixel_weight: weight of the mean squared difference of the outputs (in [0, 1]).
        **options: :class:`StyleTransferModule`'s keyword arguments.
    """

    def __init__(
        self,
        net: TransformerNet,
        loss: PerceptualLoss,
        styles: list[str],
        *,
        teacher: TransformerNet,
        teacher_share: float = 0.5,
        pixel_weight: float = 0.0,
        **options: Any,
    ) -> None:
        if net.is_multi_style or teacher.is_multi_style:
            raise ValueError(
                "distillation trains a single-style student after a single-style teacher"
            )
        if not 0.0 <= teacher_share <= 1.0:
            raise ValueError(f"teacher_share must be in [0, 1], got {teacher_share}")
        if pixel_weight < 0:
            raise ValueError(f"pixel_weight must be >= 0, got {pixel_weight}")
        super().__init__(net, loss, styles, **options)
        self.teacher = teacher.eval().requires_grad_(False)
        if self.channels_last:
            self.teacher.to(memory_format=torch.channels_last)
        self.teacher_checksum = weights_checksum(self.teacher.state_dict())  # frozen: once
        self.teacher_share = float(teacher_share)
        self.pixel_weight = float(pixel_weight)

    def train(self, mode: bool = True) -> DistillationModule:
        super().train(mode)
        self.teacher.eval()  # the teacher never trains (its instance norms have no state anyway)
        return self

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_save_checkpoint(checkpoint)
        state = checkpoint["state_dict"]
        for key in [key for key in state if key.startswith(TEACHER)]:
            del state[key]
        checkpoint[TEACHER_CHECKSUM] = self.teacher_checksum

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        super().on_load_checkpoint(checkpoint)
        saved = checkpoint.get(TEACHER_CHECKSUM)
        if saved is not None and saved != self.teacher_checksum:
            raise ConfigError(
                "distill.teacher holds other weights than the teacher this run started with; "
                "give that teacher's checkpoint again, or start a new run"
            )
        state = checkpoint["state_dict"]
        for key, value in self.teacher.state_dict().items():  # left out when saved
            state.setdefault(f"{TEACHER}{key}", value)

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        if self.schedule is not None:
            batch = resize_photos(batch, self.schedule.photo_scale(self.global_step))
        if self.channels_last:
            batch = batch.contiguous(memory_format=torch.channels_last)
        with torch.no_grad():
            taught = self.teacher(batch * 255.0) / 255.0
            targets = self.loss.content_targets(batch)
            if self.teacher_share > 0:
                targets = blended_targets(
                    targets, self.loss.content_targets(taught), self.teacher_share
                )
        stylized = self.stylize(batch, None)
        terms = self.loss(stylized, targets)
        pixel = self.pixel_weight * (stylized.float() - taught.float()).pow(2).flatten(1).mean(1)
        total = (terms.total + pixel).mean()
        self.log_dict(
            {
                "train/content": terms.content.mean(),
                "train/style": terms.style.mean(),
                "train/tv": terms.tv.mean(),
                "train/pixel": pixel.mean(),
                "train/loss": total,
            },
            prog_bar=True,
            sync_dist=True,
        )
        return total
