"""A fake clock for code that takes ``clock`` and ``sleep`` (no wall-clock time in tests)."""

from __future__ import annotations


class FakeClock:
    """A clock that only moves when the code under test sleeps (or work is simulated)."""

    def __init__(self) -> None:
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 6))
        self.now += seconds
