from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stylenet.errors import CheckpointError
from stylenet.nn.checkpoint import load_transformer
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
