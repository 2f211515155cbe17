from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from stylenet.data.images import (
    list_images,
    open_image,
    pil_to_tensor,
    read_image,
    require_min_size,
    resize,
    save_image,
    tensor_to_pil,
)
from stylenet.errors import ImageError, StylenetError


def test_round_trip_png_is_exact(tmp_path: Path, rgb_array: np.ndarray) -> None:
    image = pil_to_tensor(Image.fromarray(rgb_array))
    assert image.shape == (3, 48, 64) and image.dtype == torch.float32
    assert image.min() >= 0.0 and image.max() <= 1.0
    out = save_image(image, tmp_path / "out.png")
    assert np.array_equal(np.asarray(Image.open(out)), rgb_array)


@pytest.mark.parametrize("suffix", [".jpg", ".png", ".webp", ".tif", ".bmp"])
def test_reads_every_common_format(tmp_path: Path, rgb_array: np.ndarray, suffix: str) -> None:
    path = save_image(torch.from_numpy(rgb_array).permute(2, 0, 1) / 255, tmp_path / f"x{suffix}")
    image = read_image(path)
    assert image.shape == (3, 48, 64)
    assert (image - torch.from_numpy(rgb_array).permute(2, 0, 1) / 255).abs().mean() < 0.03


def test_grayscale_rgba_palette_become_rgb(tmp_path: Path, rgb_array: np.ndarray) -> None:
    base = Image.fromarray(rgb_array)
    gray = tmp_path / "g.png"
    base.convert("L").save(gray)
    g = read_image(gray)
    assert g.shape[0] == 3 and torch.equal(g[0], g[1]) and torch.equal(g[1], g[2])

    rgba = base.convert("RGBA")
    rgba.putalpha(0)  # fully transparent: composited on white
    rgba_path = tmp_path / "a.png"
    rgba.save(rgba_path)
    assert torch.allclose(read_image(rgba_path), torch.ones(3, 48, 64))

    pal = tmp_path / "p.png"
    base.convert("P").save(pal)
    assert read_image(pal).shape == (3, 48, 64)


def test_sixteen_bit_png_is_rescaled(tmp_path: Path) -> None:
    values = np.linspace(0, 65535, 32 * 40).reshape(32, 40).astype(np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(values).save(path)
    image = read_image(path)
    assert image.shape == (3, 32, 40)
    assert image.min() == 0.0 and image.max() == 1.0  # full range kept, not clipped to 255/65535


def test_cmyk_jpeg_is_converted(tmp_path: Path, rgb_array: np.ndarray) -> None:
    path = tmp_path / "cmyk.jpg"
    Image.fromarray(rgb_array).convert("CMYK").save(path)
    assert Image.open(path).mode == "CMYK"
    image = read_image(path)
    reference = torch.from_numpy(rgb_array).permute(2, 0, 1) / 255
    assert image.shape == (3, 48, 64)
    assert (image - reference).abs().mean() < 0.08


def test_exif_rotation_is_applied(tmp_path: Path, rgb_array: np.ndarray) -> None:
    path = tmp_path / "rotated.jpg"
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90° clockwise to display
    Image.fromarray(rgb_array).save(path, exif=exif, quality=100)
    upright = read_image(path)
    assert upright.shape == (3, 64, 48)  # width and height swapped
    expected = torch.from_numpy(np.rot90(rgb_array, k=-1).copy()).permute(2, 0, 1) / 255
    assert (upright - expected).abs().mean() < 0.03


def _corrupt_jpeg(tmp_path: Path, rgb_array: np.ndarray) -> Path:
    buffer = io.BytesIO()
    Image.fromarray(rgb_array).save(buffer, format="JPEG")
    path = tmp_path / "broken.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 3])
    return path


def _empty_file(tmp_path: Path, rgb_array: np.ndarray) -> Path:
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    return path


def _text_named_png(tmp_path: Path, rgb_array: np.ndarray) -> Path:
    path = tmp_path / "notes.png"
    path.write_text("hello, I am not a picture")
    return path


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda d, a: d / "missing.jpg", "not found"),
        (_empty_file, "empty"),
        (_text_named_png, "not a readable"),
        (_corrupt_jpeg, "corrupt"),
        (lambda d, a: d, "folder"),
    ],
)
def test_bad_files_raise_one_line_project_error(tmp_path, rgb_array, make, fragment) -> None:
    path = make(tmp_path, rgb_array)
    with pytest.raises(ImageError) as info:
        open_image(path)
    message = str(info.value)
    assert isinstance(info.value, StylenetError)
    assert fragment in message and "\n" not in message


def test_resize_modes() -> None:
    image = torch.rand(3, 40, 80)
    assert resize(image, max_side=20).shape == (3, 10, 20)
    assert resize(image, size=(17, 33)).shape == (3, 17, 33)
    assert resize(image, scale=0.5).shape == (3, 20, 40)
    assert resize(image.unsqueeze(0), scale=2.0).shape == (1, 3, 80, 160)
    with pytest.raises(ImageError):
        resize(image, max_side=20, scale=2.0)
    with pytest.raises(ImageError):
        resize(image, scale=-1.0)


def test_resize_antialiases_high_frequencies() -> None:
    checker = (torch.arange(64).view(1, -1) + torch.arange(64).view(-1, 1)) % 2
    image = checker.float().expand(3, 64, 64)
    small = resize(image, size=(16, 16))
    assert (small - 0.5).abs().max() < 0.05  # averaged to grey, not aliased


def test_resize_does_not_modify_input() -> None:
    image = torch.rand(3, 20, 20)
    before = image.clone()
    resize(image, scale=1.5)
    assert torch.equal(image, before)


def test_min_size_check() -> None:
    with pytest.raises(ImageError, match="too small"):
        require_min_size(torch.rand(3, 20, 100), 32)
    require_min_size(torch.rand(3, 32, 100), 32)


def test_save_is_atomic_and_leaves_no_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "out.png"
    save_image(torch.rand(3, 8, 8), target)
    original = target.read_bytes()
    with pytest.raises(ImageError):
        save_image(torch.rand(3, 8, 8), tmp_path / "out.unknown")
    with pytest.raises(ImageError):
        save_image(torch.rand(5, 8, 8), target)  # bad tensor: target must stay intact
    assert target.read_bytes() == original
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_tensor_to_pil_clips() -> None:
    img = tensor_to_pil(torch.full((3, 4, 4), 2.0))
    assert np.asarray(img).max() == 255


def test_list_images_recursive(image_folder: Path) -> None:
    files = list_images(image_folder)
    assert len(files) == 6
    with pytest.raises(ImageError):
        list_images(image_folder / "nope")


def test_written_files_get_normal_permissions(tmp_path) -> None:
    import os
    import stat

    from stylenet.data.images import save_image

    path = save_image(torch.rand(3, 8, 8), tmp_path / "x.png")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def _png_header(path: Path, width: int, height: int) -> Path:
    """A PNG that claims ``width×height`` but holds (almost) no pixel data."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit grayscale
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body + chunk(b"IEND", b""))
    return path


def test_pillow_limit_is_the_project_limit(tmp_path: Path) -> None:
    import warnings

    from stylenet.options import MAX_PIXELS

    assert Image.MAX_IMAGE_PIXELS == MAX_PIXELS
    # 100 MP and 189 MP are allowed sizes: no DecompressionBombWarning, and the (truncated)
    # files fail for what they are, not as decompression bombs.
    for width, height in ((10_000, 10_000), (14_000, 13_500)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ImageError, match="corrupt or truncated") as info:
                open_image(_png_header(tmp_path / f"{width}.png", width, height))
        assert "exceeds limit" not in str(info.value) and "bomb" not in str(info.value)
    # Above the limit (and above twice Pillow's) the error names the pixel limit.
    for width, height in ((16_000, 16_000), (30_000, 30_000)):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            with pytest.raises(ImageError, match="over the pixel limit of 250 megapixels"):
                open_image(_png_header(tmp_path / f"{width}.png", width, height))


def test_gif_is_read_first_frame_and_written(tmp_path: Path, rgb_array: np.ndarray) -> None:
    frames = [Image.fromarray(rgb_array).convert("P"), Image.new("P", (64, 48), 3)]
    frames[0].save(tmp_path / "a.gif", save_all=True, append_images=frames[1:])
    image = read_image(tmp_path / "a.gif")
    expected = np.asarray(frames[0].convert("RGB"))
    assert np.array_equal((image.permute(1, 2, 0) * 255).round().byte().numpy(), expected)
    written = save_image(image, tmp_path / "out.gif")
    assert Image.open(written).format == "GIF"
