"""LightningModule that trains a feed-forward style network (Johnson, Alahi and Fei-Fei 2016).

The network maps photos to stylized images; the loss is the frozen-VGG perceptual loss
(content features, style Gram matrices, total variation). One style, or S styles with
conditional instance norm (Dumoulin, Shlens and Kudlur 2017): each training sample draws one
style (seeded by the run's seed and the step, so the draws do not depend on the number of
devices or on where a run was resumed), and the per-style losses are logged.

Checkpoints follow the contract in :mod:`stylenet.nn.checkpoint` (``net.`` weights,
``hyper_parameters`` with ``model``, ``styles`` and ``facts``) and also hold the RNG states,
so a resumed run continues exactly.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torchvision.utils import make_grid

from stylenet.data.images import save_image
from stylenet.lit.schedule import TrainingSchedule, resize_photos
from stylenet.losses import PerceptualLoss
from stylenet.losses.perceptual import LossTerms
from stylenet.losses.spikes import NormSpikes
from stylenet.nn.checkpoint import CHECKSUM_FACT, network_weights, weights_checksum
from stylenet.nn.extend import norm_parameters
from stylenet.nn.transformer import TransformerNet


class StyleTransferModule(L.LightningModule):
    """Trains ``net`` to minimise ``loss`` for its styles.

    Args:
        net: the transformer network (``num_styles`` = len(styles) when multi-style).
        loss: perceptual loss with style targets already set (one per style, same order).
        styles: style names, in the order of the ``style_weights`` columns.
        lr: Adam learning rate.
        facts: training facts stored in checkpoints and model cards.
        channels_last: run the network and VGG in channels-last memory format (faster convs).
        val_dir: where validation grids are written (``None``: the logger's folder).
        train_styles: indices of the styles sampled during training (default all). The loss
            holds one style target per entry, in this order (adding styles to a trained
            network trains only the new ones).
        seed: seeds the per-step style draws.
        schedule: learning-rate curve and coarse-to-fine photo sizes over the steps
            (default: constant rate, photos as loaded).
        spike_weight: weight of the spike penalty on the norm layers' inputs
            (:mod:`stylenet.losses.spikes`, against blob artefacts), relative to the
            perceptual loss: the step minimises ``L + spike_weight · P · L.detach()``, so the
            penalty's pull does not depend on the loss's scale. 0: off.
        spike_limit: normalised values beyond this many standard deviations count as spikes.
        norm_lr: Adam learning rate of the norm layers' (γ, β) (default: ``lr``).
        norms_only_steps: the first this many steps train only the norm layers' (γ, β), the
            steps after them every parameter (a new style on a trained backbone; 0: off).
            The phase follows ``global_step``, so a resumed run is in the right one; one
            device only (DDP fixes the trained parameters when it wraps the module).
    """

    def __init__(
        self,
        net: TransformerNet,
        loss: PerceptualLoss,
        styles: list[str],
        lr: float = 1e-3,
        facts: dict[str, Any] | None = None,
        channels_last: bool = True,
        val_dir: str | Path | None = None,
        train_styles: list[int] | None = None,
        seed: int = 0,
        schedule: TrainingSchedule | None = None,
        spike_weight: float = 0.0,
        spike_limit: float = 4.0,
        norm_lr: float | None = None,
        norms_only_steps: int = 0,
    ) -> None:
        super().__init__()
        self.net = net
        self.loss = loss
        self.styles = list(styles)
        self.lr = float(lr)
        self.channels_last = channels_last
        self.val_dir = Path(val_dir) if val_dir is not None else None
        self.train_styles = list(range(len(styles))) if train_styles is None else train_styles
        self.seed = int(seed)
        self.schedule = schedule
        if spike_weight < 0:
            raise ValueError(f"spike_weight must be >= 0, got {spike_weight}")
        self.spike_weight = float(spike_weight)
        self.spikes = NormSpikes(net, limit=spike_limit) if spike_weight > 0 else None
        if norm_lr is not None and not norm_lr > 0:
            raise ValueError(f"norm_lr must be > 0, got {norm_lr}")
        if norms_only_steps < 0:
            raise ValueError(f"norms_only_steps must be >= 0, got {norms_only_steps}")
        self.norm_lr = None if norm_lr is None else float(norm_lr)
        self.norms_only_steps = int(norms_only_steps)
        self._norm_ids = {id(p) for p in norm_parameters(net)}
        if self.norms_only_steps:
            self.train_norms_only(True)
        self.save_hyperparameters(
            {"model": dict(net.config), "styles": self.styles, "facts": dict(facts or {}), "lr": lr}
        )
        self._started = time.perf_counter()
        self._seconds_before = 0.0  # training time of the runs this one resumes
        if channels_last:
            self.net.to(memory_format=torch.channels_last)
            self.loss.to(memory_format=torch.channels_last)

    # --- the step -------------------------------------------------------------------------
    def train_norms_only(self, norms_only: bool) -> None:
        """Train only the norm layers' (γ, β) (``True``) or every parameter (``False``)."""
        for parameter in self.net.parameters():
            parameter.requires_grad_(not norms_only or id(parameter) in self._norm_ids)

    def on_train_batch_start(self, batch: Any, batch_idx: int) -> None:
        if self.norms_only_steps:
            self.train_norms_only(self.global_step < self.norms_only_steps)

    def sample_style_weights(self, batch: int) -> torch.Tensor | None:
        """One-hot ``N×S`` rows, each sample's style drawn from :attr:`train_styles`.

        The draws of step ``s`` come from a generator seeded by ``(seed, s)`` for the whole
        global batch (``N`` × world size); this rank takes its own ``N`` rows, so several ranks
        draw what one process with the same global batch draws."""
        if not self.net.is_multi_style:
            return None
        world = self.trainer.world_size if self._trainer is not None else 1
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.global_step)
        draws = torch.randint(len(self.train_styles), (batch * world,), generator=generator)
        mine = draws[self.global_rank * batch : (self.global_rank + 1) * batch]
        picks = torch.tensor(self.train_styles)[mine]
        return torch.nn.functional.one_hot(picks, len(self.styles)).float().to(self.device)

    def stylize(self, photos: torch.Tensor, style_weights: torch.Tensor | None) -> torch.Tensor:
        """``N×3×H×W`` photos in [0, 1] → stylized ``N×3×H×W`` in [0, 1]."""
        return self.net(photos * 255.0, style_weights) / 255.0

    def compute_loss(
        self, photos: torch.Tensor, style_weights: torch.Tensor | None
    ) -> tuple[LossTerms, torch.Tensor]:
        """Loss terms (per image) of stylizing ``photos`` and the stylized images."""
        if self.channels_last:  # one memory format end to end: mixing them costs copies
            photos = photos.contiguous(memory_format=torch.channels_last)
        content_targets = self.loss.content_targets(photos)
        stylized = self.stylize(photos, style_weights)
        loss_weights = None if style_weights is None else style_weights[:, self.train_styles]
        return self.loss(stylized, content_targets, loss_weights), stylized

    def training_step(self, batch: torch.Tensor, batch_idx: int) -> torch.Tensor:
        if self.schedule is not None:
            batch = resize_photos(batch, self.schedule.photo_scale(self.global_step))
        weights = self.sample_style_weights(batch.shape[0])
        if self.spikes is not None:
            self.spikes.clear()
        terms, _ = self.compute_loss(batch, weights)
        total = terms.total.mean()
        self.log_dict(
            {
                "train/content": terms.content.mean(),
                "train/style": terms.style.mean(),
                "train/tv": terms.tv.mean(),
                "train/loss": total,
            },
            prog_bar=True,
            sync_dist=True,  # the global batch's means under DDP (as one process would log)
        )
        if weights is not None and len(self.styles) > 1:
            self._log_per_style("train/style", terms.style, weights)
        if self.spikes is None:
            return total
        spikes = self.spikes.pop().to(total.device)
        self.log("train/spikes", spikes, sync_dist=True)
        return total + self.spike_weight * spikes * total.detach()

    def _log_per_style(self, prefix: str, values: torch.Tensor, weights: torch.Tensor) -> None:
        picks = weights.argmax(dim=1)
        for index in picks.unique().tolist():
            mean = values[picks == index].mean()
            self.log(f"{prefix}/{self.styles[index]}", mean, prog_bar=False)

    # --- validation ------------------------------------------------------------------------
    def validation_step(self, batch: torch.Tensor, batch_idx: int) -> None:
        weights = self.validation_style_weights(batch.shape[0])
        terms, stylized = self.compute_loss(batch, weights)
        self.log_dict(
            {
                "val/content": terms.content.mean(),
                "val/style": terms.style.mean(),
                "val/loss": terms.total.mean(),
            },
            batch_size=batch.shape[0],
            sync_dist=True,
        )
        if batch_idx == 0:
            self.save_grid(batch, stylized.float())

    def validation_style_weights(self, batch: int) -> torch.Tensor | None:
        """Validation cycles through the styles so every style appears in the grid."""
        if not self.net.is_multi_style:
            return None
        picks = torch.tensor([self.train_styles[i % len(self.train_styles)] for i in range(batch)])
        return torch.nn.functional.one_hot(picks, len(self.styles)).float().to(self.device)

    def save_grid(self, photos: torch.Tensor, stylized: torch.Tensor) -> None:
        """Photos (top row) above their stylized versions → JPEG (and the logger, if it can).

        JPEG at quality 92: about a sixth of the PNG size, so run folders kept in version control
        stay small."""
        if self.trainer.sanity_checking or self.global_rank != 0:
            return
        grid = make_grid(torch.cat([photos.float(), stylized]).clamp(0, 1), nrow=len(photos))
        folder = self.val_dir or Path(self.trainer.default_root_dir) / "val"
        save_image(grid.cpu(), folder / f"step_{self.global_step:06d}.jpg", quality=92)
        add_image = getattr(getattr(self.logger, "experiment", None), "add_image", None)
        if add_image is not None:  # TensorBoard
            add_image("val/stylized", grid, self.global_step)

    # --- optimiser and checkpoints ---------------------------------------------------------
    def configure_optimizers(self) -> Any:
        switched = self.norms_only_steps > 0  # the other parameters train later
        params = [p for p in self.net.parameters() if p.requires_grad or switched]
        if self.norm_lr is None or self.norm_lr == self.lr:  # one group (as runs always had)
            optimizer = torch.optim.Adam(params, lr=self.lr)
        else:
            norms = [p for p in params if id(p) in self._norm_ids]
            others = [p for p in params if id(p) not in self._norm_ids]
            groups = [{"params": norms, "lr": self.norm_lr}, {"params": others, "lr": self.lr}]
            optimizer = torch.optim.Adam([g for g in groups if g["params"]], lr=self.lr)
        if self.schedule is None or self.schedule.lr == "constant":
            return optimizer
        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, self.schedule.lr_factor)
        return {
            "optimizer": optimizer,
            "lr_scheduler": {"scheduler": scheduler, "interval": "step"},
        }

    def on_save_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        # Plain tensors and tuples only, so checkpoints load with torch.load(weights_only=True).
        state = np.random.get_state(legacy=True)
        if isinstance(state, dict):
            raise TypeError("NumPy's global generator is not MT19937; its state cannot be saved")
        kind, keys, position, has_gauss, cached = state
        checkpoint["rng_states"] = {
            "torch": torch.get_rng_state(),
            "numpy": (kind, torch.from_numpy(keys.astype(np.int64)), position, has_gauss, cached),
            "python": random.getstate(),
        }
        facts = checkpoint["hyper_parameters"].setdefault("facts", {})
        facts["steps"] = int(self.global_step)
        facts[CHECKSUM_FACT] = weights_checksum(network_weights(checkpoint["state_dict"]))
        facts["final_losses"] = {
            key: round(float(value), 6)
            for key, value in self.trainer.callback_metrics.items()
            if key.startswith(("train/", "val/"))
        }
        facts.pop("train_seconds_before", None)  # written by earlier versions
        facts["train_seconds"] = round(
            self._seconds_before + time.perf_counter() - self._started, 1
        )

    def on_load_checkpoint(self, checkpoint: dict[str, Any]) -> None:
        states = checkpoint.get("rng_states")
        if states:
            torch.set_rng_state(states["torch"])
            kind, keys, position, has_gauss, cached = states["numpy"]
            np.random.set_state((kind, keys.numpy().astype(np.uint32), position, has_gauss, cached))
            random.setstate(states["python"])
        previous = (checkpoint.get("hyper_parameters") or {}).get("facts", {})
        self._seconds_before = float(previous.get("train_seconds", 0.0))
