"""The bad-input and fault battery: each row is a command line a new user or an attacker might
type, the exit status it must give, a fragment of its one stderr line, and files that must not
be left behind. Commands run in-process through their real ``main()`` (Hydra included)."""

from __future__ import annotations

import json
import os
import signal
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper
from PIL import Image

from stylenet.cli import export, gatys, invert, saliency, stylize, train, webcam
from stylenet.errors import CheckpointError
from stylenet.nn.checkpoint import CHECKSUM_FACT, weights_checksum
from stylenet.nn.transformer import TransformerNet
from tests.conftest import REPO, synthetic_rgb

COMMANDS = {
    "stylize": stylize.main,
    "saliency": saliency.main,
    "export": export.main,
    "train": train.main,
    "webcam": webcam.main,
    "gatys": gatys.main,
    "invert": invert.main,
}


class Payload:
    """Unpickling this would create ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def save_checkpoint(path: Path, edit: Callable[[dict], None] | None = None) -> Path:
    torch.manual_seed(0)
    net = TransformerNet(width=0.125, num_res_blocks=1)
    weights = net.state_dict()
    facts = {"steps": 2, CHECKSUM_FACT: weights_checksum(weights)}
    data = {
        "state_dict": {f"net.{k}": v for k, v in weights.items()},
        "hyper_parameters": {"model": net.config, "styles": ["wave"], "facts": facts},
        "global_step": 2,
    }
    if edit is not None:
        edit(data)
    torch.save(data, path)
    return path


def flip_a_weight_bit(path: Path) -> None:
    """Flip one bit inside the first stored tensor (zip entries are stored uncompressed)."""
    import zipfile

    raw = bytearray(path.read_bytes())
    entry = zipfile.ZipFile(path).getinfo(
        next(n for n in zipfile.ZipFile(path).namelist() if n.endswith("/data/0"))
    )
    offset = entry.header_offset
    name_len, extra_len = struct.unpack("<HH", raw[offset + 26 : offset + 30])
    raw[offset + 30 + name_len + extra_len + 9] ^= 0x04
    path.write_bytes(bytes(raw))


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims ``width×height`` with (almost) no pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )
    return path


def halving_onnx(path: Path) -> Path:
    """A one-style model breaking the contract: its output is half the input's size."""
    graph = helper.make_graph(
        [helper.make_node("MaxPool", ["image"], ["stylized"], kernel_shape=[2, 2], strides=[2, 2])],
        "halves",
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", 3, "H", "W"])],
        [helper.make_tensor_value_info("stylized", TensorProto.FLOAT, ["N", 3, "h", "w"])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 9
    helper.set_model_props(
        model, {"stylenet.format_version": "1", "stylenet.styles": json.dumps(["a"])}
    )
    onnx.save(model, str(path))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every input file the battery refers to, as ``{name}`` placeholders."""
    root = tmp_path_factory.mktemp("battery")
    made: dict[str, Path] = {"marker": root / "pwned"}
    made["ckpt"] = save_checkpoint(root / "tiny.ckpt")
    made["crafted"] = save_checkpoint(
        root / "crafted.ckpt",
        lambda d: d["hyper_parameters"]["facts"].update(hook=Payload(made["marker"])),
    )
    hostile = torch.nn.Sequential(torch.nn.Conv2d(3, 2, 3), torch.nn.Flatten())
    hostile.hook = Payload(made["marker"])
    made["crafted_classifier"] = root / "classifier.pt"
    torch.save(hostile, made["crafted_classifier"])
    made["foreign"] = root / "foreign.ckpt"
    torch.save({"state_dict": {"conv.weight": torch.zeros(2, 3, 3, 3)}}, made["foreign"])
    made["unknown_hparam"] = save_checkpoint(
        root / "unknown.ckpt", lambda d: d["hyper_parameters"]["model"].update(dropout=0.1)
    )
    made["two_names"] = save_checkpoint(
        root / "names.ckpt", lambda d: d["hyper_parameters"].update(styles=["a", "b"])
    )
    made["flipped"] = save_checkpoint(root / "flipped.ckpt")
    flip_a_weight_bit(made["flipped"])
    made["photo"] = root / "photo.png"
    Image.fromarray(synthetic_rgb(40, 48)).save(made["photo"])
    made["painting"] = root / "painting.png"
    Image.fromarray(synthetic_rgb(64, 64, seed=9)).save(made["painting"])
    made["photos"] = root / "photos"
    made["photos"].mkdir()
    for i in range(3):
        Image.fromarray(synthetic_rgb(48, 56, seed=i)).save(made["photos"] / f"p{i}.jpg")
    made["mixed"] = root / "mixed"
    made["mixed"].mkdir()
    Image.fromarray(synthetic_rgb(40, 48)).save(made["mixed"] / "good.png")
    (made["mixed"] / "broken.jpg").write_bytes(b"not a jpeg")
    frames = [Image.fromarray(synthetic_rgb(40, 48, seed=s)).convert("P") for s in (1, 2)]
    frames[0].save(made["mixed"] / "anim.gif", save_all=True, append_images=frames[1:])
    made["unreadable_photos"] = root / "unreadable_photos"
    made["unreadable_photos"].mkdir()
    for i in range(3):
        (made["unreadable_photos"] / f"u{i}.jpg").write_bytes(b"garbage")
    made["huge"] = png_header_only(root / "huge.png", 20_000, 20_000)
    made["flat_painting"] = root / "flat.png"
    Image.new("RGB", (96, 96), (40, 90, 160)).save(made["flat_painting"])
    made["small_painting"] = root / "small.png"
    Image.fromarray(synthetic_rgb(48, 200, seed=3)).save(made["small_painting"])
    made["halves"] = halving_onnx(root / "halves.onnx")
    made["onnx"] = REPO / "exported" / "starry_night_fast.onnx"
    made["bad_video"] = root / "bad.mp4"
    made["bad_video"].write_bytes(b"garbage, not a video")
    return made


TRAIN = (
    "experiment=smoke perceptual=random data.root={photos} data.image_size=40 painting=wave "
    "painting.image={painting} painting.size=64 progress=false"
)


@dataclass(frozen=True)
class Case:
    name: str
    command: str
    args: str  # placeholders: {tmp} and the names of ``files``
    code: int
    message: str  # a fragment of the stderr line (the last one for exit 0/3)
    absent: tuple[str, ...] = ()  # paths (with placeholders) that must not exist afterwards
    present: tuple[str, ...] = ()
    patch: str | None = None  # the name of a PATCHES entry to apply first
    env: dict[str, str] = field(default_factory=dict)


CASES = [
    # 1. untrusted checkpoints
    Case(
        "crafted ckpt (stylize)",
        "stylize",
        "model={crafted} input={photo} output={tmp}/o.jpg",
        2,
        "refusing to load",
        absent=("{marker}", "{tmp}/o.jpg"),
    ),
    Case(
        "crafted ckpt (export)",
        "export",
        "model={crafted} out={tmp}/o.onnx",
        2,
        "refusing to load",
        absent=("{marker}", "{tmp}/o.onnx"),
    ),
    Case(
        "crafted base=",
        "train",
        TRAIN + " base={crafted}",
        2,
        "refusing to load",
        absent=("{marker}",),
    ),
    Case(
        "add_style without base=",
        "train",
        TRAIN.replace("experiment=smoke", "experiment=add_style") + " trainer.max_steps=1",
        2,
        "base= is required: experiment=add_style",
    ),
    Case(
        "crafted resume=",
        "train",
        TRAIN + " resume={crafted}",
        2,
        "refusing to load",
        absent=("{marker}",),
    ),
    Case(
        "crafted classifier=",
        "saliency",
        "image={photo} classifier={crafted_classifier} method=vanilla output={tmp}/maps",
        2,
        "refusing to load",
        absent=("{marker}", "{tmp}/maps"),
    ),
    Case(
        "foreign state_dict",
        "stylize",
        "model={foreign} input={photo}",
        2,
        "was it written by stylenet-train",
    ),
    Case(
        "unknown hparam",
        "export",
        "model={unknown_hparam}",
        2,
        "unknown model hyper-parameter(s) dropout",
    ),
    Case(
        "style names vs network",
        "stylize",
        "model={two_names} input={photo}",
        2,
        "names 2 style(s) but its network has 1",
    ),
    Case(
        "bit-flipped ckpt",
        "stylize",
        "model={flipped} input={photo} output={tmp}/o.jpg",
        2,
        "checksum",
        absent=("{tmp}/o.jpg",),
    ),
    Case(
        "resume with another model",
        "train",
        TRAIN + " resume={ckpt} net=johnson_small",
        2,
        "trained with another model",
    ),
    # 5. cameras
    Case(
        "negative camera",
        "webcam",
        "model={onnx} camera=-1 display=false output={tmp}/l.mp4",
        2,
        "camera index must be >= 0",
        absent=("{tmp}/l.mp4",),
    ),
    # 6. images
    Case(
        "input == output",
        "stylize",
        "model={ckpt} input={photo} output={photo}",
        2,
        "would overwrite the input",
    ),
    Case(
        "pixel limit",
        "stylize",
        "model={ckpt} input={huge} output={tmp}/h.png",
        2,
        "over the pixel limit of 250 megapixels",
        absent=("{tmp}/h.png",),
    ),
    Case(
        "folder with a failure",
        "stylize",
        "model={ckpt} input={mixed} output={tmp}/out",
        3,
        "broken.jpg: not a readable image",
        present=("{tmp}/out/good.png", "{tmp}/out/anim.gif"),
    ),
    Case(
        "gif output",
        "stylize",
        "model={ckpt} input={photo} output={tmp}/o.gif",
        0,
        "",
        present=("{tmp}/o.gif",),
    ),
    Case(
        "bad video: no ffmpeg noise",
        "stylize",
        "model={ckpt} input={bad_video} output={tmp}/v.mp4",
        2,
        "cannot read video",
        absent=("{tmp}/v.mp4",),
    ),
    # 4. option values and Hydra's own errors
    Case(
        "strength=abc",
        "stylize",
        "model={ckpt} input={photo} strength=abc",
        2,
        "strength must be a number",
    ),
    Case(
        "tile_size=abc",
        "stylize",
        "model={ckpt} input={photo} tile_size=abc",
        2,
        "tile_size must be an integer",
    ),
    Case(
        "quality=abc",
        "stylize",
        "model={ckpt} input={photo} quality=abc",
        2,
        "quality must be an integer",
    ),
    Case(
        "quality=0",
        "stylize",
        "model={ckpt} input={photo} quality=0",
        2,
        "quality must be an integer in [1, 100]",
    ),
    Case(
        "strength=2",
        "stylize",
        "model={ckpt} input={photo} strength=2",
        2,
        "strength must be a number in [0, 1]",
    ),
    Case(
        "size=100000",
        "stylize",
        "model={ckpt} input={photo} size=100000",
        2,
        "over the pixel limit",
    ),
    Case(
        "preserve_color=maybe",
        "stylize",
        "model={ckpt} input={photo} preserve_color=maybe",
        2,
        "preserve_color must be true or false",
    ),
    Case(
        "preserve_color=no",
        "stylize",
        "model={ckpt} input={photo} preserve_color=no output={tmp}/c.png",
        0,
        "",
        present=("{tmp}/c.png",),
    ),
    Case(
        "providers as a string",
        "stylize",
        "model={onnx} input={photo} providers=CPUExecutionProvider output={tmp}/p.png",
        0,
        "",
        present=("{tmp}/p.png",),
    ),
    Case(
        "data.image_size=abc",
        "train",
        TRAIN + " data.image_size=abc",
        2,
        "data.image_size must be an integer",
    ),
    Case(
        "trainer.max_steps=abc",
        "train",
        TRAIN + " trainer.max_steps=abc",
        2,
        "trainer.max_steps must be an integer",
    ),
    Case("gatys without style", "gatys", "", 2, "style= is required"),
    Case("invert without image", "invert", "", 2, "image= is required"),
    Case("export without model", "export", "", 2, "model= is required"),
    Case("webcam without model", "webcam", "", 2, "model= or painting= is required"),
    Case(
        "unknown key",
        "stylize",
        "model={ckpt} input={photo} strenght=0.5",
        2,
        "unknown option strenght; valid options: blend",
    ),
    Case("group typo", "train", "net=tinyy", 2, "unknown net 'tinyy'; choose net= from johnson"),
    Case(
        "an old training option",
        "train",
        "style.image={painting}",
        2,
        "unknown option style.image",
    ),
    Case(
        "an old training group",
        "train",
        "model=tiny",
        2,
        "unknown option model",
    ),
    Case("bad override syntax", "stylize", "model={ckpt} strength=[1", 2, "cannot parse"),
    # 7. ONNX contract
    Case(
        "output size contract",
        "stylize",
        "model={halves} input={photo}",
        2,
        "breaks the model contract",
    ),
    # 8. partial files and noise
    Case(
        "unwritable export",
        "export",
        "model={ckpt} out=/proc/stylenet/x.onnx",
        2,
        "cannot write /proc/stylenet/x.onnx",
    ),
    Case(
        "failed int8 leaves no fp32",
        "export",
        "model={ckpt} out={tmp}/m.onnx variants=[fp32,int8]",
        2,
        "quantization failed",
        absent=(
            "{tmp}/m.onnx",
            "{tmp}/m.json",
            "{tmp}/m.int8.onnx",
            "{tmp}/tiling/m.int8.statistics.onnx",
        ),
        patch="int8_fails",
    ),
    Case(
        "SIGTERM during export",
        "export",
        "model={ckpt} out={tmp}/m.onnx",
        143,
        "terminated",
        absent=("{tmp}/m.onnx",),
        patch="sigterm_in_write",
    ),
    Case(
        "worker error",
        "train",
        TRAIN + " data.root={unreadable_photos} data.num_workers=1",
        2,
        "in a data loader worker: none of the",
    ),
    # arbitrary style: bad paintings (exit 2, one line, nothing written)
    Case(
        "painting is no image",
        "stylize",
        "painting={mixed}/broken.jpg input={photo} output={tmp}/o.jpg",
        2,
        "not a readable image",
        absent=("{tmp}/o.jpg",),
    ),
    Case(
        "painting missing",
        "stylize",
        "painting={tmp}/nowhere.jpg input={photo} output={tmp}/o.jpg",
        2,
        "image not found",
        absent=("{tmp}/o.jpg",),
    ),
    Case(
        "painting flat colour",
        "stylize",
        "painting={flat_painting} input={photo} output={tmp}/o.jpg",
        2,
        "single flat colour",
        absent=("{tmp}/o.jpg",),
    ),
    Case(
        "painting too small",
        "stylize",
        "painting={small_painting} input={photo} output={tmp}/o.jpg",
        2,
        "at least 64 px",
        absent=("{tmp}/o.jpg",),
    ),
    Case(
        "painting over the pixel limit",
        "stylize",
        "painting={huge} input={photo} output={tmp}/o.jpg",
        2,
        "too large",
        absent=("{tmp}/o.jpg",),
    ),
    Case(
        "painting with a single-style model",
        "stylize",
        "model=starry_night_fast painting={painting} input={photo} output={tmp}/o.jpg",
        2,
        "needs the arbitrary-style network",
        absent=("{tmp}/o.jpg",),
    ),
    Case(
        "painting size out of range",
        "stylize",
        "painting={painting} painting_size=4000 input={photo} output={tmp}/o.jpg",
        2,
        "painting_size",
        absent=("{tmp}/o.jpg",),
    ),
    Case(
        "painting flat colour (webcam)",
        "webcam",
        "painting={flat_painting} camera={bad_video} display=false output={tmp}/o.mp4",
        2,
        "single flat colour",
        absent=("{tmp}/o.mp4",),
    ),
]


def _fake_export(net, info, target):
    from stylenet.export.onnx import save_model

    return save_model(onnx.load(str(REPO / "exported" / "starry_night_fast.onnx")), target)


def _int8_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    from stylenet.errors import ModelFileError

    def to_int8(source, target, reader):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"half-written")
        raise ModelFileError("quantization failed")

    monkeypatch.setattr("stylenet.export.bundle.export_onnx", _fake_export)
    monkeypatch.setattr("stylenet.export.variants.to_int8", to_int8)
    monkeypatch.setattr(
        "stylenet.export.bundle.ImageCalibrationReader", lambda *args, **kwargs: object()
    )
    monkeypatch.setattr("stylenet.export.bundle.parity_stats", lambda net, file: (0.0, 0.0))


def _sigterm_in_write(monkeypatch: pytest.MonkeyPatch) -> None:
    def save_model(model, path, **kwargs):
        Path(path).write_bytes(b"partial model")
        os.kill(os.getpid(), signal.SIGTERM)

    monkeypatch.setattr("stylenet.export.bundle.export_onnx", _fake_export)
    monkeypatch.setattr("stylenet.export.onnx.onnx.save_model", save_model)


PATCHES = {"int8_fails": _int8_fails, "sigterm_in_write": _sigterm_in_write}


def _fill(text: str, files: dict[str, Path], tmp: Path) -> str:
    return text.format(tmp=tmp, **{k: str(v) for k, v in files.items()})


@pytest.fixture
def keep_sigterm():
    previous = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, previous)


SLOW_CASES = {"worker error"}  # starts a data loader worker process


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, marks=pytest.mark.slow) if c.name in SLOW_CASES else c for c in CASES],
    ids=[c.name for c in CASES],
)
def test_bad_input(
    case: Case,
    files: dict[str, Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
    keep_sigterm: None,
) -> None:
    monkeypatch.chdir(tmp_path)
    if case.patch:
        PATCHES[case.patch](monkeypatch)
    args = _fill(case.args, files, tmp_path).split()
    argv = [f"stylenet-{case.command}", *args, f"hydra.run.dir={tmp_path}/run"]
    monkeypatch.setattr(sys, "argv", argv)
    code = 0
    try:
        COMMANDS[case.command]()
    except SystemExit as exit:
        code = exit.code if isinstance(exit.code, int) else 1
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == case.code, f"exit {code}, stderr:\n{err}"
    if case.code == 2:
        assert len(lines) == 1, f"expected one stderr line:\n{err}"
        assert lines[0].startswith("stylenet: error: ")
    if case.message:
        assert any(case.message in line for line in lines), err
    for path in case.absent:
        assert not Path(_fill(path, files, tmp_path)).exists(), path
    for path in case.present:
        assert Path(_fill(path, files, tmp_path)).is_file(), path
    assert not list(tmp_path.rglob("*.partial*")), "a .partial file was left behind"
    assert "Traceback" not in err and "DecompressionBomb" not in err


def test_gif_folder_input_uses_the_first_frame(files: dict[str, Path]) -> None:
    from stylenet.data.images import read_image

    first = np.asarray(Image.open(files["mixed"] / "anim.gif").convert("RGB"))
    image = read_image(files["mixed"] / "anim.gif")
    assert image.shape == (3, 40, 48)
    assert np.array_equal((image.permute(1, 2, 0) * 255).round().byte().numpy(), first)


def test_debug_env_reraises_with_the_cause(
    files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STYLENET_DEBUG", "1")
    monkeypatch.chdir(tmp_path)
    argv = ["stylenet-stylize", f"model={files['crafted']}", f"input={files['photo']}"]
    monkeypatch.setattr(sys, "argv", [*argv, f"hydra.run.dir={tmp_path}/run"])
    with pytest.raises(CheckpointError) as info:
        stylize.main()
    assert info.value.__cause__ is not None  # the UnpicklingError that was refused
    assert not files["marker"].exists()


@pytest.mark.slow
def test_bad_video_prints_no_ffmpeg_log(files: dict[str, Path], tmp_path: Path) -> None:
    # FFmpeg writes to file descriptor 2 from C; a fresh process shows what a user sees.
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "stylenet.cli.stylize",
            f"model={files['ckpt']}",
            f"input={files['bad_video']}",
            f"output={tmp_path / 'v.mp4'}",
            f"hydra.run.dir={tmp_path / 'run'}",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        line for line in proc.stderr.strip().splitlines() if line.startswith("stylenet: error:")
    ], proc.stderr


@pytest.mark.parametrize(
    ("command", "args"),
    [
        ("webcam", ["model=m.onnx", "camera=clip.mp4"]),
        ("train", ["trainer.devices=auto", "trainer.val_check_interval=0.5"]),
        ("gatys", ["style=a.jpg", "size=[256,384]"]),
        ("stylize", ["blend={a: 0.7, b: 0.3}", "grid=[a,b]", "preserve_color=yes"]),
    ],
)
def test_documented_value_forms_pass_the_command_line_check(command: str, args) -> None:
    from stylenet.cli.app import check_command_line
    from stylenet.cli.config import config_dir

    coerced = check_command_line(config_dir(), command, args)
    assert coerced == ({"preserve_color": True} if command == "stylize" else {})
