from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylenet.data.datamodule import PhotoCrops, PhotoDataModule, StepSamples, list_photos
from stylenet.errors import ConfigError


def test_crops_are_square_deterministic_and_in_range(image_folder: Path) -> None:
    photos = list_photos(image_folder)
    first = PhotoCrops(photos, 48, seed=3, train=True)
    second = PhotoCrops(photos, 48, seed=3, train=True)
    for k in (0, 5, 17):
        crop = first[k]
        assert crop.shape == (3, 48, 48) and crop.min() >= 0 and crop.max() <= 1
        assert torch.equal(crop, second[k])
    assert not torch.equal(first[0], PhotoCrops(photos, 48, seed=4, train=True)[0])


def test_every_photo_is_seen_once_per_pass(image_folder: Path) -> None:
    photos = list_photos(image_folder)
    crops = PhotoCrops(photos, 40, seed=0, train=True)
    seen = [crops._photo_of(k) for k in range(len(photos))]
    assert sorted(seen) == sorted(photos)


def test_unreadable_photo_is_skipped_and_counted(image_folder: Path) -> None:
    (image_folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    photos = list_photos(image_folder)
    crops = PhotoCrops(photos, 32, seed=0, train=True)
    images = [crops[k] for k in range(2 * len(photos))]
    assert all(image.shape == (3, 32, 32) for image in images)
    assert crops.skipped == {image_folder / "broken.jpg"}


def test_samples_follow_the_step_at_every_pass() -> None:
    step = {"now": 0}
    sampler = StepSamples(batch_size=2, steps=3, first_step=lambda: step["now"])
    assert len(sampler) == 6 and list(sampler) == [0, 1, 2, 3, 4, 5]
    step["now"] = 7  # a resumed run, or a later epoch: the stream continues at step 7
    assert list(sampler) == [14, 15, 16, 17, 18, 19]


def test_ranks_split_the_global_batch() -> None:
    single = list(StepSamples(batch_size=4, steps=3, first_step=lambda: 5))
    ranks = [
        list(StepSamples(batch_size=2, steps=3, first_step=lambda: 5, rank=r, world_size=2))
        for r in (0, 1)
    ]
    assert not set(ranks[0]) & set(ranks[1])
    for step in range(3):  # each step: the two ranks' batches are the one-process batch
        batches = [ranks[r][2 * step : 2 * step + 2] for r in (0, 1)]
        assert batches[0] + batches[1] == single[4 * step : 4 * step + 4]


def test_validation_split_is_held_out(image_folder: Path) -> None:
    module = PhotoDataModule(str(image_folder), image_size=32, num_val=2)
    module.setup("fit")
    assert len(module.val_photos) == 2 and len(module.train_photos) == 4
    assert not set(module.val_photos) & set(module.train_photos)


def test_bad_values_and_empty_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="image_size"):
        PhotoDataModule(str(tmp_path), image_size=16)
    with pytest.raises(ConfigError, match="batch_size"):
        PhotoDataModule(str(tmp_path), batch_size=0)
    with pytest.raises(ConfigError, match="holds 0 image"):
        PhotoDataModule(str(tmp_path)).setup("fit")
    with pytest.raises(ConfigError, match="not a folder"):
        PhotoDataModule(str(tmp_path / "missing")).setup("fit")


def test_ranks_of_a_trainer_see_the_one_process_samples(image_folder: Path) -> None:
    from types import SimpleNamespace

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
