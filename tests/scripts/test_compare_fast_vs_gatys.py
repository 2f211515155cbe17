from __future__ import annotations

import warnings
from pathlib import Path

import pytest
import torch
from torch import nn

from stylenet.errors import ModelFileError
from stylenet.losses import PerceptualLoss
from tests.helpers.scripts import load_script

compare_script = load_script("compare_fast_vs_gatys")


def tiny_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 3, 3, padding=1), nn.Hardtanh(0.0, 255.0)).eval()


def tiny_loss() -> PerceptualLoss:
    loss = PerceptualLoss({"relu2_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1e4, 0.0, weights="random")
    loss.set_styles([torch.rand(3, 32, 32)])
    return loss


def test_load_and_compare_on_a_tiny_random_model(tmp_path: Path) -> None:
    path = tmp_path / "fast.pt"
    torch.save(tiny_model(), path)
    stylizer = compare_script.load_fast_model(path)
    photos = [torch.rand(3, 32, 40), torch.rand(3, 32, 40)]
    result = compare_script.compare(stylizer, photos, tiny_loss(), iterations=(1, 3), repeats=1)
    assert set(result.gatys_loss) == {1, 3} and set(result.gatys_seconds) == {1, 3}
    assert result.gatys_loss[3] < result.gatys_loss[1]
    assert result.fast_seconds > 0 and result.fast_loss > 0
    assert "| fast model |" in compare_script.report(result)


def test_bad_model_files_are_one_line_errors(tmp_path: Path) -> None:
    with pytest.raises(ModelFileError, match="fast model not found"):
        compare_script.load_fast_model(tmp_path / "missing.pt")
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelFileError, match="not a weights-only torch file"):
        compare_script.load_fast_model(junk)
    weights = tmp_path / "state.pt"
    torch.save(tiny_model().state_dict(), weights)
    with pytest.raises(ModelFileError, match=r"not an nn\.Module; give the training checkpoint"):
        compare_script.load_fast_model(weights)


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
            compare_script.load_fast_model(path)
        assert "\n" not in str(error.value)
    assert not marker.exists()


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
    stylize = compare_script.load_fast_model(path)
    batch = torch.rand(1, 3, 36, 40) * 255
    with torch.no_grad():
        assert torch.allclose(stylize(batch), net.eval()(batch), atol=1e-4)
