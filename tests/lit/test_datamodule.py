"""The photo datamodule: held-out split, option checks, ranks of a trainer."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from stylenet.data.photos import PhotoCrops, list_photos
from stylenet.errors import ConfigError
from stylenet.lit.datamodule import PhotoDataModule


def test_validation_split_is_held_out(image_folder: Path) -> None:
    module = PhotoDataModule(str(image_folder), image_size=32, num_val=2)
    module.setup("fit")
    assert len(module.val_photos) == 2 and len(module.train_photos) == 4
    assert not set(module.val_photos) & set(module.train_photos)


def test_bad_values_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="image_size"):
        PhotoDataModule(str(tmp_path), image_size=16)
    with pytest.raises(ConfigError, match="zoom must be >= 1"):
        PhotoDataModule(root=str(tmp_path), zoom=0.5)
    with pytest.raises(ConfigError, match="batch_size"):
        PhotoDataModule(str(tmp_path), batch_size=0)
    with pytest.raises(ConfigError, match="holds 0 image"):
        PhotoDataModule(str(tmp_path)).setup("fit")
    with pytest.raises(ConfigError, match="not a folder"):
        PhotoDataModule(str(tmp_path / "missing")).setup("fit")


def test_ranks_of_a_trainer_see_the_one_process_samples(image_folder: Path) -> None:
    def sample_numbers(batch_size: int, rank: int, world: int, step: int) -> list[int]:
        module = PhotoDataModule(str(image_folder), image_size=32, batch_size=batch_size, num_val=0)
        module.setup("fit")
        module.trainer = SimpleNamespace(global_rank=rank, world_size=world, global_step=step)
        return list(module.train_dataloader().sampler)

    single = sample_numbers(4, 0, 1, step=5)
    ranks = [sample_numbers(2, r, 2, step=5) for r in (0, 1)]
    assert len(single) == 4 and single[0] == 20  # one pass of 6 photos at global batch 4: 1 step
    assert not set(ranks[0]) & set(ranks[1])
    assert sorted(ranks[0] + ranks[1]) == single
    # and the crops: rank r's batch is the one-process batch's r-th half
    crops = PhotoCrops(list_photos(image_folder), 32, seed=0, train=True)
    assert torch.equal(crops[ranks[1][0]], crops[single[2]])
