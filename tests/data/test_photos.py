"""Training photo crops and their step-indexed order (plain PyTorch)."""

from __future__ import annotations

from pathlib import Path

import torch

from stylenet.data.photos import PhotoCrops, StepSamples, list_photos


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
