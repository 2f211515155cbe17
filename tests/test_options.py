from __future__ import annotations

import pytest

from stylenet.errors import ConfigError
from stylenet.options import MAX_SIDE, boolean, choice, number, side, string_list


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, True),
        ("yes", True),
        ("1", True),
        (1, True),
        ("no", False),
        ("False", False),
        (0, False),
    ],
)
def test_boolean_words(value, expected: bool) -> None:
    assert boolean("flag", value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", 2, None, ""])
def test_boolean_rejects_the_rest(value) -> None:
    with pytest.raises(ConfigError, match="flag must be true or false"):
        boolean("flag", value)


def test_numbers_and_ranges() -> None:
    assert number("q", "95", low=1, high=100, integer=True) == 95
    assert number("s", 0.5, low=0, high=1) == 0.5
    assert number("n", 1e3, integer=True) == 1000
    for bad, message in [("abc", "a number"), (float("nan"), "a number"), (2, r"in \[0, 1\]")]:
        with pytest.raises(ConfigError, match=message):
            number("s", bad, low=0, high=1)
    with pytest.raises(ConfigError, match="an integer"):
        number("q", 1.5, integer=True)
    with pytest.raises(ConfigError, match="> 0"):
        number("lr", 0, low=0, low_open=True)
    with pytest.raises(ConfigError, match="a number"):
        number("s", True)


def test_side_is_bounded_by_the_pixel_limit() -> None:
    assert side("size", None) is None and side("size", "512") == 512
    assert side("size", MAX_SIDE) == MAX_SIDE
    with pytest.raises(ConfigError, match="pixel limit"):
        side("size", 100_000)
    with pytest.raises(ConfigError, match=">= 1"):
        side("size", 0)


def test_string_lists_and_choices() -> None:
    assert string_list("providers", "CPUExecutionProvider") == ["CPUExecutionProvider"]
    assert string_list("providers", "A, B") == ["A", "B"]
    assert string_list("providers", ["A"]) == ["A"] and string_list("providers", None) is None
    with pytest.raises(ConfigError, match="non-empty"):
        string_list("providers", "A,,B")
    assert choice("mode", "a", ["a", "b"]) == "a"
    with pytest.raises(ConfigError, match="one of a, b"):
        choice("mode", "c", ["a", "b"])
