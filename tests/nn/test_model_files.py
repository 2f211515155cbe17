"""Model files from users: weights-only reads, crafted files run nothing, programs refused."""

from __future__ import annotations

import io
import warnings
import zipfile
from pathlib import Path

import pytest
import torch
from torch import nn

from stylenet.errors import ModelFileError
from stylenet.nn.model_files import load_weights, program_kind, read_module, read_state_dict

INSTEAD = "give a state dict"


class Payload:
    """Unpickling this calls ``Path.touch(marker)``: what a hostile model file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def tiny() -> nn.Module:
    return nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten()).eval()


def crafted_export(path: Path, marker: Path) -> Path:
    """A real ``torch.export`` archive whose sample inputs are a ``Payload`` pickle.

    ``torch.export.load`` falls back to ``weights_only=False`` for it and so runs the payload.
    """
    program = torch.export.export(nn.Conv2d(3, 3, 1), (torch.rand(1, 3, 4, 4),))
    clean = path.with_name("clean.pt2")
    torch.export.save(program, clean)
    payload = io.BytesIO()
    torch.save((Payload(marker),), payload)
    with zipfile.ZipFile(clean) as source, zipfile.ZipFile(path, "w") as target:
        for name in source.namelist():
            data = source.read(name)
            target.writestr(name, payload.getvalue() if "sample_inputs" in name else data)
    return path


def test_modules_of_torch_nn_layers_and_state_dicts_load(tmp_path: Path) -> None:
    net, x = tiny(), torch.rand(1, 3, 6, 6)
    torch.save(net, tmp_path / "net.pt")
    torch.save(net.state_dict(), tmp_path / "state.pt")
    torch.save({"state_dict": net.state_dict()}, tmp_path / "wrapped.pt")
    loaded = read_module(tmp_path / "net.pt", instead=INSTEAD)
    assert isinstance(loaded, nn.Module) and torch.equal(loaded(x), net(x))
    for name in ("state.pt", "wrapped.pt"):
        state = read_state_dict(tmp_path / name, instead=INSTEAD)
        fresh = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Flatten())
        load_weights(fresh, state, tmp_path / name)
        assert torch.equal(fresh(x), net(x))


def test_crafted_pickles_run_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    hostile = tiny()
    hostile.hook = Payload(marker)  # a payload inside an otherwise plain module
    torch.save(hostile, tmp_path / "module.pt")
    torch.save({"weight": Payload(marker)}, tmp_path / "state.pt")
    torch.save(Payload(marker), tmp_path / "legacy.pt", _use_new_zipfile_serialization=False)
    for name in ("module.pt", "state.pt", "legacy.pt"):
        for read in (read_module, read_state_dict):
            with pytest.raises(ModelFileError, match="refusing to load") as error:
                read(tmp_path / name, instead=INSTEAD)
            assert str(error.value).endswith(INSTEAD) and "\n" not in str(error.value)
    assert not marker.exists()


def test_custom_classes_are_refused_by_name(tmp_path: Path) -> None:
    import torchvision

    torch.save(torchvision.models.squeezenet1_1(weights=None), tmp_path / "squeeze.pt")
    with pytest.raises(ModelFileError, match=r"torchvision\.models\.squeezenet\.SqueezeNet"):
        read_module(tmp_path / "squeeze.pt", instead=INSTEAD)


def test_a_crafted_torch_export_file_is_refused_before_it_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = crafted_export(tmp_path / "model.pt2", marker)
    renamed = tmp_path / "model.pt"  # the archive is recognised whatever its name
    renamed.write_bytes(path.read_bytes())
    for file in (path, renamed):
        assert program_kind(file) == "torch.export"
        with pytest.raises(ModelFileError, match=r"torch\.export file is a program"):
            read_module(file, instead=INSTEAD)
    assert not marker.exists()


def test_torchscript_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "net.pt"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(torch.jit.script(tiny()), str(path))
    assert program_kind(path) == "TorchScript"
    with pytest.raises(ModelFileError, match=f"TorchScript file is a program.*; {INSTEAD}$"):
        read_module(path, instead=INSTEAD)


def test_other_bad_files(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="not found"):
        read_module(tmp_path / "missing.pt", instead=INSTEAD)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a weights-only torch file"):
        read_state_dict(junk, instead=INSTEAD)
    torch.save(tiny().state_dict(), tmp_path / "whole.pt")
    cut = tmp_path / "cut.pt"
    cut.write_bytes((tmp_path / "whole.pt").read_bytes()[:300])
    with pytest.raises(ModelFileError, match=f"cannot read .*; {INSTEAD}$"):
        read_state_dict(cut, instead=INSTEAD)
    torch.save({"weight": torch.zeros(1), "steps": 3}, tmp_path / "mixed.pt")
    with pytest.raises(ModelFileError, match="'steps' is not a tensor"):
        read_state_dict(tmp_path / "mixed.pt", instead=INSTEAD)
    torch.save(tiny(), tmp_path / "net.pt")
    with pytest.raises(ModelFileError, match=r"refusing to load .*container\.Sequential"):
        read_state_dict(tmp_path / "net.pt", instead=INSTEAD)


def test_load_weights_names_the_first_mismatch(tmp_path: Path) -> None:
    state = tiny().state_dict()
    wrong = dict(state, **{"0.weight": torch.zeros(5, 3, 3, 3)})
    with pytest.raises(ModelFileError, match=r"0\.weight has shape \(5, 3, 3, 3\)"):
        load_weights(tiny(), wrong, tmp_path / "w.pt")
    with pytest.raises(ModelFileError, match=r"1 weights are missing, e\.g\. 0\.bias"):
        load_weights(tiny(), {"0.weight": state["0.weight"]}, tmp_path / "w.pt")
    with pytest.raises(ModelFileError, match=r"unknown, e\.g\. extra"):
        load_weights(tiny(), dict(state, extra=torch.zeros(1)), tmp_path / "w.pt")
