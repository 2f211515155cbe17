"""Training photo crops and their step-indexed order (plain PyTorch)."""

from __future__ import annotations

from pathlib import Path

import torch

from stylenet.data.images import resize
from stylenet.data.photos import PhotoCrops, StepSamples, list_photos, random_crop


def test_crops_are_square_deterministic_and_in_range(image_folder: Path) -> None:
    photos = list_photos(image_folder)
    first = PhotoCrops(photos, 48, seed=3, train=True)
    second = PhotoCrops(photos, 48, seed=3, train=True)
    for k in (0, 5, 17):
        crop = first[k]
        assert crop.shape == (3, 48, 48) and crop.min() >= 0 and crop.max() <= 1
        assert torch.equal(crop, second[k])
    assert not torch.equal(first[0], PhotoCrops(photos, 48, seed=4, train=True)[0])


def ramp(height: int = 60, width: int = 90) -> torch.Tensor:
    """A photo whose red channel is its column and green its row (positions readable)."""
    yy, xx = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    return torch.stack([xx / (width - 1), yy / (height - 1), torch.zeros(height, width)]).float()


def crop_with(seed: int, **augment) -> torch.Tensor:
    return random_crop(ramp(), 40, torch.Generator().manual_seed(seed), **augment)


def test_without_augmentation_a_crop_is_what_it_was() -> None:
    for seed in range(5):
        assert torch.equal(crop_with(seed), crop_with(seed, zoom=1.0, flip=False))


def test_flip_mirrors_about_half_of_the_crops() -> None:
    flipped = 0
    for seed in range(40):
        plain, maybe = crop_with(seed), crop_with(seed, flip=True)
        if torch.equal(maybe, plain.flip(-1)):
            flipped += 1
        else:
            assert torch.equal(maybe, plain)
    assert 10 <= flipped <= 30
    # columns run right to left in a flipped crop
    seed = next(s for s in range(40) if not torch.equal(crop_with(s, flip=True), crop_with(s)))
    red = crop_with(seed, flip=True)[0, 0]
    assert bool((red[1:] < red[:-1]).all())


def test_zoom_shows_a_smaller_part_of_the_photo_at_random_scales() -> None:
    # the span of columns (red) a 40 px crop covers: the whole shorter side at zoom 1
    spans = []
    for seed in range(20):
        crop = crop_with(seed, zoom=2.0)
        assert crop.shape == (3, 40, 40) and crop.min() >= 0 and crop.max() <= 1
        spans.append(float(crop[1, -1, 0] - crop[1, 0, 0]))  # rows seen, as a share
    plain = float(crop_with(0)[1, -1, 0] - crop_with(0)[1, 0, 0])
    assert all(span < plain * 1.01 for span in spans)
    assert min(spans) < plain * 0.65 and max(spans) > plain * 0.8  # scales vary in [1, 2]
    assert torch.equal(crop_with(3, zoom=2.0), crop_with(3, zoom=2.0))  # deterministic


def test_a_zoomed_crop_is_resampled_once(monkeypatch) -> None:
    """The zoom scales the photo itself, not a resized copy of it (one resampling: sharper)."""
    import stylenet.data.photos as photos

    calls = []

    def counted(image: torch.Tensor, **kwargs) -> torch.Tensor:
        calls.append(kwargs["size"])
        return resize(image, **kwargs)

    monkeypatch.setattr(photos, "resize", counted)
    for seed in range(5):
        calls.clear()
        crop = crop_with(seed, zoom=2.0)
        assert len(calls) == 1 and min(calls[0]) >= 40
        # the same crop as scaling the photo to that size and cutting the window out
        scaled = resize(ramp(), size=calls[0])
        windows = scaled.unfold(1, 40, 1).unfold(2, 40, 1)  # 3 × rows × cols × 40 × 40
        match = (windows - crop[:, None, None]).abs().amax(dim=(0, 3, 4))
        assert float(match.min()) == 0.0


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
