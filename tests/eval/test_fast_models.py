from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from stylenet.errors import ModelFileError
from stylenet.eval.fast_models import load_fast_model


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Hardtanh(0.0, 255.0)).eval()


def test_loads_saved_modules_of_torch_nn_layers(tmp_path: Path) -> None:
    path = tmp_path / "fast.pt"
    torch.save(tiny_model(), path)
    stylize = load_fast_model(path)
    batch = torch.rand(2, 3, 32, 40) * 255
    with torch.no_grad():
        torch.testing.assert_close(stylize(batch), tiny_model()(batch))


def test_bad_model_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="fast model not found"):
        load_fast_model(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a weights-only torch file"):
        load_fast_model(junk)
    weights = tmp_path / "state.pt"
    torch.save(tiny_model().state_dict(), weights)
    with pytest.raises(ModelFileError, match=r"not an nn\.Module; give the training checkpoint"):
        load_fast_model(weights)


@pytest.mark.slow
def test_files_that_could_run_code_are_refused(tmp_path: Path) -> None:
    from tests.nn.test_model_files import Payload, crafted_export

    marker = tmp_path / "pwned"
    hostile = tiny_model()
    hostile.hook = Payload(marker)
    torch.save(hostile, tmp_path / "hostile.pt")
    scripted = tmp_path / "fast.ts"
    with warnings.catch_warnings():  # TorchScript is deprecated in this torch
        warnings.simplefilter("ignore", FutureWarning)
        torch.jit.save(torch.jit.script(tiny_model()), scripted)
    exported = crafted_export(tmp_path / "fast.pt2", marker)
    for path, message in [
        (tmp_path / "hostile.pt", "it asks to run or build"),
        (scripted, "TorchScript file is a program"),
        (exported, "torch.export file is a program"),
    ]:
        with pytest.raises(ModelFileError, match=f"refusing to load .*{message}") as error:
            load_fast_model(path)
        assert "\n" not in str(error.value)
    assert not marker.exists()


@pytest.mark.slow
def test_training_checkpoints_load_through_the_stylizer(tmp_path: Path) -> None:
    from stylenet.nn.transformer import TransformerNet

    net = TransformerNet(0.125, 1)
    path = tmp_path / "last.ckpt"
    torch.save(
        {
            "state_dict": {f"net.{k}": v for k, v in net.state_dict().items()},
            "hyper_parameters": {"model": dict(net.config), "styles": ["x"], "facts": {}},
        },
        path,
    )
    stylize = load_fast_model(path)
    batch = torch.rand(1, 3, 36, 40) * 255
    with torch.no_grad():
        torch.testing.assert_close(stylize(batch), net.eval()(batch), atol=1e-4, rtol=1e-4)
