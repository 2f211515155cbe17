from __future__ import annotations

import json
from pathlib import Path

from stylenet.data.digest import file_sha256 as sha256
from stylenet.export.card import model_card, write_card
from stylenet.model_card import ModelCard, Parity
from stylenet.nn.checkpoint import ModelInfo
from tests.helpers.networks import FACTS, STYLES


def test_the_exporters_card_follows_the_schema(multi, single) -> None:
    for (net, path), styles in ((multi, STYLES), (single, ["starry"])):
        info = ModelInfo(list(styles), dict(FACTS))
        parity = Parity(0.01, 0.001, 0.05, [(33, 47)], [1, 3])
        card = model_card(path, info, dict(net.config), "fp32", parity)
        written = write_card(card, path)
        assert written == path.with_suffix(".json")
        data = json.loads(written.read_text())
        assert ModelCard.from_dict(data) == card
        assert data["parity"]["sizes"] == [[33, 47]] and data["styles"] == list(styles)
        assert card.multi_style == net.is_multi_style == (len(styles) > 1)
        inputs = [spec["name"] for spec in card.contract["inputs"]]
        styled = ["image", "style_weights"] if card.multi_style else ["image"]
        assert inputs == styled  # the app-facing graph only: tiling graphs are not in it
        assert [spec["name"] for spec in card.contract["outputs"]] == ["stylized"]
        assert card.sha256 == sha256(path) and card.file_size == Path(path).stat().st_size
