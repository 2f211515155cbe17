"""The model card schema: every shipped card and every card the exporter writes follows it."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from stylenet.errors import ModelFileError
from stylenet.model_card import ModelCard, Parity, card_path
from stylenet.resources import shipped_models_dir

SHIPPED_CARDS = sorted(shipped_models_dir().glob("*.json"))


def card(**changes: object) -> ModelCard:
    fields = {
        "name": "duo",
        "file": "duo.onnx",
        "format_version": 1,
        "variant": "fp32",
        "styles": ["a", "b"],
        "facts": {"steps": 2000, "style_weights": {"a": 2.0}},
        "model": {"width": 0.25, "num_res_blocks": 3, "norm": "conditional_instance"},
        "opset": 18,
        "contract": {"inputs": [], "outputs": []},
        "parity": Parity(0.01, 0.001, 0.05, [[32, 32]], [1, 3]),
        "file_size": 1_700_000,
        "sha256": "0" * 64,
        "exported_with": {"torch": "2.x"},
    }
    return ModelCard(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.skipif(not SHIPPED_CARDS, reason="no model cards in exported/")
@pytest.mark.parametrize("path", SHIPPED_CARDS, ids=lambda p: p.stem)
def test_every_shipped_card_follows_the_schema(path: Path) -> None:
    parsed = ModelCard.read(path)
    assert parsed.to_dict() == json.loads(path.read_text())  # nothing lost, nothing added
    assert parsed.file == path.with_suffix(".onnx").name and (path.parent / parsed.file).is_file()
    assert parsed.multi_style == (len(parsed.styles) > 1)
    inputs = [i["name"] for i in parsed.contract["inputs"]]
    outputs = [o["name"] for o in parsed.contract["outputs"]]
    styled = ["image", "style_weights"] if parsed.multi_style else ["image"]
    if parsed.format_version in (2, 3):  # shared statistics: optional input, extra output
        assert inputs == [*styled, "statistics"] and parsed.contract["inputs"][-1]["optional"]
        assert outputs == ["stylized", "observed_statistics"]
    else:  # formats 1 and 4: the app-facing graph alone (format 4's tiling graphs in tiling/)
        assert inputs == styled and outputs == ["stylized"]


def test_round_trip_through_a_file(tmp_path: Path) -> None:
    original = card()
    path = original.write(card_path(tmp_path / "duo.onnx"))
    assert path == tmp_path / "duo.json"
    assert ModelCard.read(path) == original
    assert original.multi_style and original.steps == 2000
    assert not card(styles=["a"], model={"norm": "instance"}).multi_style


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda d: d.pop("sha256"), "lacks the field 'sha256'"),
        (lambda d: d.update(colour="red"), "unknown field.* colour"),
        (lambda d: d.update(styles="a"), "styles must be a list"),
        (lambda d: d.update(styles=["a", 2]), r"styles\[1\] must be str"),
        (lambda d: d.update(file_size="big"), "file_size must be int"),
        (lambda d: d.update(opset=True), "opset must be int"),
        (lambda d: d["parity"].pop("tolerance"), "parity lacks the field 'tolerance'"),
        (lambda d: d["parity"].update(sizes=[[32, "x"]]), r"sizes\[0\]\[1\] must be int"),
        (lambda d: d.update(facts=[1]), "facts must be an object"),
    ],
)
def test_a_card_that_breaks_the_schema_is_one_clear_error(edit, match: str) -> None:
    data = card().to_dict()
    edit(data)
    with pytest.raises(ModelFileError, match=match):
        ModelCard.from_dict(data)


def test_unreadable_cards_are_model_file_errors(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(ModelFileError, match="is not JSON"):
        ModelCard.read(tmp_path / "broken.json")
    with pytest.raises(ModelFileError, match="cannot read model card"):
        ModelCard.read(tmp_path / "absent.json")
    with pytest.raises(ModelFileError, match="must be a JSON object"):
        ModelCard.from_dict([])


def test_defaults_are_the_only_optional_fields() -> None:
    optional = {
        f.name
        for cls in (ModelCard, Parity)
        for f in dataclasses.fields(cls)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }
    assert optional == {"sizes", "batches", "scale", "reference"}
