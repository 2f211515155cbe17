from __future__ import annotations

import struct
import zipfile
from pathlib import Path

import pytest
import torch

from stylenet.errors import CheckpointError
from stylenet.nn.checkpoint import (
    CHECKSUM_FACT,
    load_transformer,
    read_checkpoint,
    weights_checksum,
)
from stylenet.nn.transformer import TransformerNet


def write_checkpoint(path: Path, net: TransformerNet, styles: list[str]) -> Path:
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    hparams = {"model": net.config, "styles": styles, "facts": {"steps": 7}}
    torch.save({"state_dict": state, "hyper_parameters": hparams, "global_step": 7}, path)
    return path


def test_round_trip(tmp_path: Path) -> None:
    net = TransformerNet(width=0.125, num_res_blocks=1).eval()
    path = write_checkpoint(tmp_path / "a.ckpt", net, ["wave"])
    loaded, info = load_transformer(path)
    assert info.styles == ["wave"] and info.facts["steps"] == 7
    image = torch.rand(1, 3, 40, 44) * 255
    assert torch.equal(loaded(image), net(image))


def test_missing_corrupt_and_foreign_files(tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="not found"):
        load_transformer(tmp_path / "nope.ckpt")
    corrupt = tmp_path / "corrupt.ckpt"
    corrupt.write_bytes(b"\x00garbage" * 10)
    with pytest.raises(CheckpointError, match="corrupt"):
        load_transformer(corrupt)
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"weights": 1}, foreign)
    with pytest.raises(CheckpointError, match="not a stylenet"):
        load_transformer(foreign)
    mismatched = write_checkpoint(tmp_path / "m.ckpt", TransformerNet(width=0.125), ["x"])
    data = torch.load(mismatched, weights_only=False)
    data["hyper_parameters"]["model"]["width"] = 0.25
    torch.save(data, mismatched)
    with pytest.raises(CheckpointError, match="do not match"):
        load_transformer(mismatched)


class _Payload:
    """Unpickling this calls ``Path.touch(marker)``: what a hostile checkpoint would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("zip_format", [True, False])
def test_crafted_pickle_runs_nothing(tmp_path: Path, zip_format: bool) -> None:
    marker = tmp_path / "pwned"
    net = TransformerNet(width=0.125, num_res_blocks=1)
    crafted = tmp_path / "crafted.ckpt"
    state = {f"net.{k}": v for k, v in net.state_dict().items()}
    hparams = {"model": net.config, "styles": ["x"], "facts": {"hook": _Payload(marker)}}
    torch.save(
        {"state_dict": state, "hyper_parameters": hparams},
        crafted,
        _use_new_zipfile_serialization=zip_format,
    )
    with pytest.raises(CheckpointError, match="refusing to load"):
        load_transformer(crafted)
    assert not marker.exists()


def _saved(tmp_path: Path, edit) -> Path:
    net = TransformerNet(width=0.125, num_res_blocks=1)
    path = write_checkpoint(tmp_path / "c.ckpt", net, ["wave"])
    data = torch.load(path, weights_only=True)
    edit(data)
    torch.save(data, path)
    return path


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["hyper_parameters"]["model"].update(dropout=0.5), "unknown model hyper"),
        (lambda d: d["hyper_parameters"]["model"].update(width="wide"), "wrong type"),
        (lambda d: d["hyper_parameters"]["model"].update(norm="fancy"), "bad model hyper"),
        (lambda d: d["hyper_parameters"].update(styles=["a", "b"]), "names 2 style"),
        (lambda d: d["hyper_parameters"]["model"].update(num_res_blocks=10**9), "does not fit"),
        (lambda d: d["hyper_parameters"]["model"].update(num_res_blocks=3), "do not match"),
        (lambda d: d["state_dict"].update({"net.extra": torch.zeros(1)}), "unexpected extra"),
        (lambda d: d.update(state_dict={"conv.weight": torch.zeros(1)}), "no network weights"),
        (lambda d: d.pop("hyper_parameters"), "lacks the model config"),
    ],
)
def test_what_is_read_is_validated(tmp_path: Path, edit, message: str) -> None:
    path = _saved(tmp_path, edit)
    with pytest.raises(CheckpointError, match=message):
        load_transformer(path)


def test_checksum_detects_a_flipped_bit(tmp_path: Path) -> None:
    net = TransformerNet(width=0.125, num_res_blocks=1)
    weights = net.state_dict()
    path = write_checkpoint(tmp_path / "c.ckpt", net, ["wave"])
    data = torch.load(path, weights_only=True)
    data["hyper_parameters"]["facts"][CHECKSUM_FACT] = weights_checksum(weights)
    torch.save(data, path)
    load_transformer(path)  # intact: loads
    raw = bytearray(path.read_bytes())
    archive = zipfile.ZipFile(path)
    entry = archive.getinfo(next(n for n in archive.namelist() if n.endswith("/data/0")))
    name_len, extra_len = struct.unpack(
        "<HH", raw[entry.header_offset + 26 : entry.header_offset + 30]
    )
    raw[entry.header_offset + 30 + name_len + extra_len + 5] ^= 0x10
    path.write_bytes(bytes(raw))
    with pytest.raises(CheckpointError, match=r"corrupt checkpoint .*checksum"):
        load_transformer(path)


def test_checksum_is_canonical() -> None:
    net = TransformerNet(width=0.125, num_res_blocks=1)
    weights = net.state_dict()
    reordered = {
        k: weights[k].to(memory_format=torch.channels_last) if weights[k].dim() == 4 else weights[k]
        for k in reversed(list(weights))
    }
    assert weights_checksum(reordered) == weights_checksum(weights)
    changed = dict(weights)
    key = next(iter(weights))
    changed[key] = weights[key].clone()
    changed[key].view(-1)[0] += 1e-3
    assert weights_checksum(changed) != weights_checksum(weights)


def test_plain_garbage_is_corrupt_not_hostile(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.ckpt"
    garbage.write_bytes(b"not a checkpoint at all " * 20)
    with pytest.raises(CheckpointError, match="corrupt or unreadable checkpoint"):
        read_checkpoint(garbage)
