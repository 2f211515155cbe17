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


def resume_run_dir(argv: list[str]) -> list[str]:
    """``argv`` plus ``hydra.run.dir=<run>`` when it resumes ``<run>/checkpoints/X.ckpt`` and names
    no run folder: the run continues in its own folder (Hydra's record of this launch goes to
    ``.hydra/resumed_<time>/``, next to the original ``.hydra/`` files)."""
    args = argv[1:]
    if any(arg.startswith(("hydra.run.dir=", "++hydra.run.dir=")) for arg in args):
        return argv
    values = [arg.split("=", 1)[1] for arg in args if arg.startswith("resume=")]
    if not values or values[-1] in ("", "null"):
        return argv
    checkpoint = Path(values[-1]).expanduser()
    if checkpoint.parent.name != "checkpoints" or not checkpoint.is_file():
        return argv
    run = checkpoint.resolve().parent.parent
    return [
        *argv,
        f"hydra.run.dir={run}",
        "hydra.output_subdir=.hydra/resumed_${now:%Y-%m-%d_%H-%M-%S}",
    ]
