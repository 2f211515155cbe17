"""Run a module as ``python no_torch.py MODULE ARGS...`` with PyTorch (and Lightning,
torchvision, scikit-learn) made unimportable, as on an install without the training extra;
``python no_torch.py --no-video MODULE ARGS...`` also blocks OpenCV (``cv2``), as on the base
install (no extras).

Every attempt to import a blocked module is recorded; at exit the recorded attempts and any
blocked module found in ``sys.modules`` are printed to stderr as ``no_torch: ...`` lines.
"""

from __future__ import annotations

import atexit
import runpy
import sys

BLOCKED = ["torch", "torchvision", "lightning", "pytorch_lightning", "lightning_fabric", "sklearn"]
VIDEO = "cv2"  # the video extra (opencv-python-headless)
attempts: list[str] = []


class BlockTorch:
    """A meta-path finder that refuses the blocked top-level packages."""

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        if name.split(".")[0] in BLOCKED:
            attempts.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)", name=name)


def report() -> None:
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
    print(f"no_torch: attempted={sorted(set(attempts))} loaded={loaded}", file=sys.stderr)


def main() -> None:
    arguments = sys.argv[1:]
    if arguments[:1] == ["--no-video"]:
        BLOCKED.append(VIDEO)
        arguments = arguments[1:]
    sys.meta_path.insert(0, BlockTorch())
    atexit.register(report)
    module, *args = arguments
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
