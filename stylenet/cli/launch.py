"""Console-script entry points of the commands that need the training extra.

Each checks for the extra first, so that the base install answers with one line and exit
status 2 instead of an ``ImportError`` traceback, then runs the command's ``main``. The
commands of the base install (``stylenet-stylize``, ``stylenet-webcam``) start directly.
"""

from __future__ import annotations

import importlib
import sys

from stylenet.cli.errors import EXIT_USER_ERROR
from stylenet.errors import StylenetError
from stylenet.extras import require_training_extra

TRAINING_COMMANDS = (
    "train",
    "export",
    "gatys",
    "invert",
    "dream",
    "saliency",
    "visualize",
    "fool",
    "inspect",
)


def launch(verb: str) -> None:
    """Run ``stylenet-<verb>`` if the training extra is installed, else explain and exit 2."""
    try:
        require_training_extra(f"stylenet-{verb}")
    except StylenetError as error:
        print(f"stylenet: error: {error}", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR) from None
    importlib.import_module(f"stylenet.cli.{verb}").main()


def train() -> None:
    launch("train")


def export() -> None:
    launch("export")


def gatys() -> None:
    launch("gatys")


def invert() -> None:
    launch("invert")


def dream() -> None:
    launch("dream")


def saliency() -> None:
    launch("saliency")


def visualize() -> None:
    launch("visualize")


def fool() -> None:
    launch("fool")


def inspect() -> None:
    launch("inspect")


if __name__ == "__main__":  # python -m stylenet.cli.launch VERB [overrides...]
    launch(sys.argv.pop(1))
