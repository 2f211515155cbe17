"""Training photos for feed-forward style networks: any folder of images (COCO's layout works),
its crops and the order they are sampled in (plain PyTorch; the Lightning side is
:class:`stylenet.lit.datamodule.PhotoDataModule`).

Sampling is indexed by a global *sample number* ``k = 0, 1, 2, …``: sample ``k`` is photo
``perm_e[k mod n]`` (``perm_e`` a seeded shuffle for pass ``e = k div n``) with a random crop
seeded by ``(seed, k)``. Training step ``s`` trains on samples ``s·G … s·G + G - 1`` (``G`` the
global batch: ``data.batch_size`` per device × devices), rank ``r`` on its own contiguous
``data.batch_size`` of them. The sampler reads the trainer's ``global_step`` whenever an epoch
starts, so the order depends only on ``seed`` and the step, not on workers, epochs or where a
run was stopped: a run resumed from any checkpoint trains on exactly the samples the
uninterrupted run would have seen next, and several ranks together see exactly the samples one
process with the same global batch sees.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import torch
from torch.utils.data import Dataset, Sampler

from stylenet.data.images import list_images, read_image, resize
from stylenet.errors import ConfigError, ImageError

log = logging.getLogger(__name__)


def photo_permutation(num_photos: int, seed: int, epoch: int) -> torch.Tensor:
    """The shuffled photo order of pass ``epoch`` (deterministic in ``seed``, ``epoch``)."""
    generator = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(num_photos, generator=generator)


def random_crop(
    image: torch.Tensor,
    size: int,
    generator: torch.Generator,
    *,
    zoom: float = 1.0,
    flip: bool = False,
) -> torch.Tensor:
    """``3×H×W`` → a random ``3×size×size`` crop after resizing the shorter side to ``size``
    (photo augmentation: ``zoom > 1`` resizes it to ``size × u`` instead, ``u`` uniform in
    ``[1, zoom]``, so a crop shows a random part of the photo at a random scale; ``flip``
    mirrors half of the crops left to right). The random draws for the augmentation come after
    the crop's, so a crop without augmentation is the same as before it existed."""
    height, width = image.shape[-2:]
    if min(height, width) != size:
        scale = size / min(height, width)
        height, width = max(size, round(height * scale)), max(size, round(width * scale))
    top = int(torch.randint(0, height - size + 1, (1,), generator=generator))
    left = int(torch.randint(0, width - size + 1, (1,), generator=generator))
    if zoom > 1.0:
        # the crop's position, drawn above as a fraction of the free room, at the zoomed scale
        factor = 1.0 + float(torch.rand((), generator=generator)) * (zoom - 1.0)
        zoomed_h, zoomed_w = round(height * factor), round(width * factor)
        top = round(top / max(height - size, 1) * (zoomed_h - size))
        left = round(left / max(width - size, 1) * (zoomed_w - size))
        height, width = zoomed_h, zoomed_w
    image = resize(image, size=(height, width))  # one resampling, zoom included
    crop = image[:, top : top + size, left : left + size]
    if flip and bool(torch.rand((), generator=generator) < 0.5):
        crop = crop.flip(-1)
    return crop


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

    def __init__(
        self,
        photos: list[Path],
        image_size: int,
        seed: int,
        train: bool,
        *,
        zoom: float = 1.0,
        flip: bool = False,
    ) -> None:
        self.photos = photos
        self.zoom = float(zoom)
        self.flip = bool(flip)
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
            return random_crop(image, self.image_size, generator, zoom=self.zoom, flip=self.flip)
        raise ImageError(f"none of the {len(self.photos)} photos could be read; check data.root")

    def _photo_of(self, sample: int) -> Path:
        if not self.train:
            return self.photos[sample % len(self.photos)]
        epoch, position = divmod(sample, len(self.photos))
        return self.photos[int(photo_permutation(len(self.photos), self.seed, epoch)[position])]


class StepSamples(Sampler[int]):
    """Sample numbers for ``steps`` training steps from the step ``first_step()`` returns.

    Step ``s`` yields ``s·G + r·B … s·G + r·B + B - 1`` on rank ``r`` (``B`` = ``batch_size``,
    ``G`` = ``B·world_size``): disjoint across ranks, together the one-process global batch.
    ``first_step`` is called at the start of every pass (epoch), so the stream follows
    ``global_step`` across epoch boundaries and resumes.
    """

    def __init__(
        self,
        *,
        batch_size: int,
        steps: int,
        first_step: Callable[[], int],
        rank: int = 0,
        world_size: int = 1,
    ) -> None:
        self.batch_size, self.steps, self.first_step = batch_size, steps, first_step
        self.rank, self.world_size = rank, world_size

    def __len__(self) -> int:
        return self.steps * self.batch_size

    def __iter__(self) -> Iterator[int]:
        start = int(self.first_step())
        global_batch = self.batch_size * self.world_size
        for step in range(start, start + self.steps):
            first = step * global_batch + self.rank * self.batch_size
            yield from range(first, first + self.batch_size)


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
