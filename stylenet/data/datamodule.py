"""Training photos for feed-forward style networks: any folder of images (COCO's layout works).

Sampling is indexed by a global *sample number* ``k = 0, 1, 2, …``: sample ``k`` is photo
``perm_e[k mod n]`` (``perm_e`` a seeded shuffle for pass ``e = k div n``) with a random crop
seeded by ``(seed, k)``. The order therefore depends only on ``seed`` and ``k``, not on
workers, and a resumed run continues with exactly the samples the interrupted run would have
seen next (the datamodule stores ``next_sample`` in checkpoints).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import lightning as L
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from stylenet.data.images import list_images, read_image, resize
from stylenet.errors import ConfigError, ImageError
from stylenet.nn.transformer import MIN_SIDE

log = logging.getLogger(__name__)


def photo_permutation(num_photos: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled photo order of pass ``epoch`` (deterministic in ``seed``, ``epoch``)."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(num_photos, generator=generator)


def random_crop(image: torch.Tensor, size: int, generator: torch.Generator) -> torch.Tensor:
    """``3×H×W`` → a random ``3×size×size`` crop after resizing the shorter side to ``size``."""
    height, width = image.shape[-2:]
    if min(height, width) != size:
        scale = size / min(height, width)
        new_h, new_w = max(size, round(height * scale)), max(size, round(width * scale))
        image = resize(image, size=(new_h, new_w))
    height, width = image.shape[-2:]
    top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
    return image[:, top : top + size, left : left + size]


def center_crop(image: torch.Tensor, size: int) -> torch.Tensor:
    """``3×H×W`` → the central ``3×size×size`` crop after resizing the shorter side to ``size``."""
    height, width = image.shape[-2:]
    scale = size / min(height, width)
    image = resize(image, size=(max(size, round(height * scale)), max(size, round(width * scale))))
    height, width = image.shape[-2:]
    top, left = (height - size) // 2, (width - size) // 2
    return image[:, top : top + size, left : left + size]


class PhotoCrops(Dataset):
    """Sample number ``k`` → a ``3×S×S`` crop in [0, 1] (see the module docstring).

    Unreadable files are skipped (the next photo is used) and counted in :attr:`skipped`.
    """

    def __init__(self, photos: list[Path], image_size: int, seed: int, train: bool) -> None:
        self.photos = photos
        self.image_size = image_size
        self.seed = seed
        self.train = train
        self.skipped: set[Path] = set()

    def __len__(self) -> int:
        return len(self.photos)

    def __getitem__(self, sample: int) -> torch.Tensor:
        for attempt in range(len(self.photos)):
            path = self._photo_of(sample + attempt)
            if path in self.skipped:
                continue
            try:
                image = read_image(path)
            except ImageError as error:
                self.skipped.add(path)
                log.warning(
                    "skipping unreadable training photo (%d so far): %s", len(self.skipped), error
                )
                continue
            if not self.train:
                return center_crop(image, self.image_size)
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + sample)
            return random_crop(image, self.image_size, generator)
        raise ImageError(f"none of the {len(self.photos)} photos could be read; check data.root")

    def _photo_of(self, sample: int) -> Path:
        if not self.train:
            return self.photos[sample % len(self.photos)]
        epoch, position = divmod(sample, len(self.photos))
        return self.photos[int(photo_permutation(len(self.photos), self.seed, epoch)[position])]


class SampleNumbers(Sampler[int]):
    """Yields sample numbers ``start, start+1, …`` (``count`` of them), strided across ranks."""

    def __init__(self, start: int, count: int, rank: int = 0, world_size: int = 1) -> None:
        self.start, self.count = start, count
        self.rank, self.world_size = rank, world_size

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[int]:
        for i in range(self.start, self.start + self.count):
            yield i * self.world_size + self.rank


class PhotoDataModule(L.LightningDataModule):
    """Random square crops of a photo folder (recursive) with a held-out validation split.

    Args:
        root: folder of photos (searched recursively).
        image_size: crop side in pixels (>= 32).
        batch_size: photos per step (per device).
        num_val: photos held out for validation (the first ones of a seeded shuffle).
        num_workers: DataLoader worker processes (0 = load in the training process).
        seed: seeds the split, the photo order and the crops.
    """

    def __init__(
        self,
        root: str,
        image_size: int = 256,
        batch_size: int = 4,
        num_val: int = 8,
        num_workers: int = 1,
        seed: int = 0,
    ) -> None:
        super().__init__()
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
        self.next_sample = 0
        self.train_photos: list[Path] = []
        self.val_photos: list[Path] = []

    def setup(self, stage: str | None = None) -> None:
        photos = list_photos(self.root)
        order = photo_permutation(len(photos), self.seed, epoch=-1).tolist()
        num_val = min(self.num_val, len(photos) - 1)
        self.val_photos = [photos[i] for i in order[:num_val]]
        self.train_photos = [photos[i] for i in order[num_val:]]

    def train_dataloader(self) -> DataLoader:
        dataset = PhotoCrops(self.train_photos, self.image_size, self.seed, train=True)
        rank, world = (
            (self.trainer.global_rank, self.trainer.world_size) if self.trainer else (0, 1)
        )
        start = self.next_sample
        if self.trainer is not None:
            start = self.trainer.global_step * self.batch_size
        count = self._remaining_steps() * self.batch_size
        return DataLoader(
            dataset,
            batch_size=self.batch_size,
            sampler=SampleNumbers(start, count, rank, world),
            num_workers=self.num_workers,
            persistent_workers=False,
            drop_last=True,
        )

    def val_dataloader(self) -> DataLoader:
        dataset = PhotoCrops(self.val_photos, self.image_size, self.seed, train=False)
        return DataLoader(dataset, batch_size=self.batch_size, num_workers=0)

    def _remaining_steps(self) -> int:
        trainer = self.trainer
        if trainer is None or trainer.max_steps is None or trainer.max_steps < 0:
            raise ConfigError("trainer.max_steps must be set (> 0): training is counted in steps")
        return max(trainer.max_steps - trainer.global_step, 1)

    def state_dict(self) -> dict[str, Any]:
        step = self.trainer.global_step if self.trainer is not None else 0
        return {"next_sample": step * self.batch_size, "seed": self.seed}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.next_sample = int(state_dict.get("next_sample", 0))


def list_photos(root: Path) -> list[Path]:
    """All images under ``root``; at least two (one to train on, one to validate) or a clear error."""
    if not root.is_dir():
        raise ConfigError(
            f"data.root {root} is not a folder; point data.root= at a folder of photos"
        )
    photos = list_images(root)
    if len(photos) < 2:
        raise ConfigError(
            f"data.root {root} holds {len(photos)} image(s); training needs at least 2 "
            "(JPEG, PNG, WebP, TIFF or BMP, searched recursively)"
        )
    return photos
