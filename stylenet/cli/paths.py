"""Where a command writes: the user's path if given, else Hydra's run directory."""

from __future__ import annotations

from pathlib import Path

from hydra.core.hydra_config import HydraConfig


def run_dir() -> Path:
    """Hydra's output directory for this run (``outputs/<date>/<time>`` by default).

    Outside ``@hydra.main`` (e.g. a test composing the config) it is ``./outputs``.
    """
    if HydraConfig.initialized():
        return Path(HydraConfig.get().runtime.output_dir)
    return Path.cwd() / "outputs"


def output_path(user_path: str | None, default_name: str) -> Path:
    """``user_path`` when given (relative to the current directory), else ``run_dir()/default_name``."""
    if user_path:
        return Path(user_path).expanduser()
    return run_dir() / default_name
