"""The Lightning side of the training photos: :class:`PhotoDataModule` splits a folder into
training and held-out photos and streams :class:`~stylenet.data.photos.PhotoCrops` in the
step-indexed order of :mod:`stylenet.data.photos` (exact resume, ranks share one stream)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import lightning as L
from torch.utils.data import DataLoader

from stylenet.data.photos import PhotoCrops, StepSamples, list_photos, photo_permutation
from stylenet.errors import ConfigError
from stylenet.nn.transformer import MIN_SIDE


class PhotoDataModule(L.LightningDataModule):
    """Random square crops of a photo folder (recursive) with a held-out validation split.

    Args:
        root: folder of photos (searched recursively).
        image_size: crop side in pixels (>= 32).
        batch_size: photos per step (per device).
        num_val: photos held out for validation (the first ones of a seeded shuffle).
        num_workers: DataLoader worker processes (0 = load in the training process).
        seed: seeds the split, the photo order and the crops.
        zoom: photo augmentation, >= 1: each training crop is taken after scaling the photo by
            a random factor in ``[1, zoom]`` on top of the crop size (1: off).
        flip: photo augmentation: mirror half of the training crops left to right.
    """

    def __init__(
        self,
        root: str,
        image_size: int = 256,
        batch_size: int = 4,
        num_val: int = 8,
        num_workers: int = 1,
        seed: int = 0,
        zoom: float = 1.0,
        flip: bool = False,
    ) -> None:
        super().__init__()
        if not float(zoom) >= 1.0:
            raise ConfigError(f"data.zoom must be >= 1 (1: no zoom), got {zoom}")
        if int(image_size) < MIN_SIDE:
            raise ConfigError(f"data.image_size must be >= {MIN_SIDE}, got {image_size}")
        if int(batch_size) < 1 or int(num_val) < 0 or int(num_workers) < 0:
            raise ConfigError(
                "data.batch_size must be >= 1 and data.num_val, data.num_workers >= 0; "
                f"got {batch_size}, {num_val}, {num_workers}"
            )
        self.root = Path(str(root)).expanduser()
        self.image_size = int(image_size)
        self.batch_size = int(batch_size)
        self.num_val = int(num_val)
        self.num_workers = int(num_workers)
        self.seed = int(seed)
        self.zoom = float(zoom)
        self.flip = bool(flip)
        self.train_photos: list[Path] = []
        self.val_photos: list[Path] = []

    def setup(self, stage: str | None = None) -> None:
        photos = list_photos(self.root)
        order = photo_permutation(len(photos), self.seed, epoch=-1).tolist()
        num_val = min(self.num_val, len(photos) - 1)
        self.val_photos = [photos[i] for i in order[:num_val]]
        self.train_photos = [photos[i] for i in order[num_val:]]

    def train_dataloader(self) -> DataLoader:
        dataset = PhotoCrops(
            self.train_photos,
            self.image_size,
            self.seed,
            train=True,
            zoom=self.zoom,
            flip=self.flip,
        )
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer else (0, 1)
        sampler = StepSamples(
            batch_size=self.batch_size,
            steps=self.steps_per_epoch(world),
            first_step=self._global_step,
            rank=rank,
            world_size=world,
        )
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.num_workers,
            persistent_workers=self.num_workers > 0,
            drop_last=True,
        )

    def steps_per_epoch(self, world_size: int = 1) -> int:
        """Steps in one pass over the training photos at the global batch (at least 1)."""
        return max(len(self.train_photos) // (self.batch_size * world_size), 1)

    def _global_step(self) -> int:
        return self.trainer.global_step if self.trainer is not None else 0

    def val_dataloader(self) -> DataLoader:
        dataset = PhotoCrops(self.val_photos, self.image_size, self.seed, train=False)
        return DataLoader(dataset, batch_size=self.batch_size, num_workers=0)

    def state_dict(self) -> dict[str, Any]:
        """For information: the sampler follows ``global_step``, which Lightning restores."""
        step = self.trainer.global_step if self.trainer is not None else 0
        world = self.trainer.world_size if self.trainer is not None else 1
        return {"next_sample": step * self.batch_size * world, "seed": self.seed}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Nothing to restore: the sample stream is a function of the restored step."""
