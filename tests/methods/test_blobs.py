import pytest
import torch

from stylenet.methods.blobs import POOL, blob_mask, blob_score, local_departure, normalized_peaks
from stylenet.nn.transformer import TransformerNet

SIZE = 128


def noisy_flat(colour=(120.0, 170.0, 230.0), *, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    base = torch.tensor(colour)[:, None, None].expand(3, SIZE, SIZE)
    return (base + 3.0 * torch.randn(3, SIZE, SIZE, generator=generator)).clamp(0, 255)[None]


def with_blob(image: torch.Tensor, centre=(40, 80), radius=10.0) -> torch.Tensor:
    rows = torch.arange(SIZE, dtype=torch.float32)[:, None]
    cols = torch.arange(SIZE, dtype=torch.float32)[None, :]
    disc = (((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2).sqrt() < radius).float()
    brown = torch.tensor([110.0, 80.0, 40.0])[:, None, None]
    return image * (1 - disc) + brown * disc


def test_planted_blob_is_detected_where_it_is():
    photo = noisy_flat()
    mask = blob_mask(with_blob(photo), photo)
    assert blob_score(with_blob(photo), photo).item() > 0.01
    hits = mask[0].nonzero().float().mean(dim=0) * POOL
    assert torch.allclose(hits, torch.tensor([40.0, 80.0]), atol=POOL)


def test_clean_flat_and_gradient_images_score_zero():
    photo = noisy_flat()
    restyled = noisy_flat((200.0, 90.0, 60.0), seed=1)  # a recoloured, re-noised flat field
    ramp = (60.0 + 150.0 * torch.linspace(0, 1, SIZE))[None, None, :, None].expand(1, 3, SIZE, SIZE)
    assert blob_score(restyled, photo).item() == 0.0
    assert blob_score(ramp, ramp).item() == 0.0


def test_blob_already_in_the_photo_does_not_count():
    photo = with_blob(noisy_flat())
    assert blob_score(photo, photo).item() == 0.0
    assert local_departure(photo).max() > 40.0


@pytest.mark.slow
def test_normalized_peaks_see_a_spike():
    torch.manual_seed(0)
    net = TransformerNet(width=0.25, num_res_blocks=1).eval()
    flat = noisy_flat()
    spiked = flat.clone()
    spiked[..., 60:62, 60:62] = 255.0
    calm, spike = normalized_peaks(net, flat), normalized_peaks(net, spiked)
    assert len(calm) == 3 + 2 + 2  # encoder, one residual block, decoder (the output has none)
    assert spike["encoder.0.norm"] > 2 * calm["encoder.0.norm"]
