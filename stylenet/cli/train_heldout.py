"""The held-out evaluation of ``stylenet-train`` from its ``heldout:`` config node, and the
fine-tune gate of ``experiment=new_style`` that scores on the same photos."""

from __future__ import annotations

import logging
from pathlib import Path

import torch
from lightning.pytorch.callbacks import Callback
from omegaconf import DictConfig

from stylenet.cli.config import require_positive, shared_data_dir
from stylenet.cli.train_options import new_style_options
from stylenet.data.images import list_images, read_image
from stylenet.data.photos import list_photos
from stylenet.errors import ConfigError
from stylenet.lit.finetune_gate import FinetuneGate
from stylenet.lit.heldout import HeldOutEvaluation
from stylenet.nn.transformer import MIN_SIDE

log = logging.getLogger(__name__)
DEFAULT_FOLDER = "coco/val2017"  # of the shared data: held out from the training photos


def heldout_folder(cfg: DictConfig) -> Path | None:
    """The held-out photo folder: ``heldout.root`` (``auto``: the shared data's val2017 when
    present, else off; ``null``: off). A named folder must exist and lie outside the
    training folder ``data.root``."""
    node = cfg.get("heldout")
    root = None if node is None else node.get("root")
    if root is None or str(root).lower() in ("null", "none", "false", "off"):
        return None
    if str(root) == "auto":
        folder = Path(shared_data_dir(DEFAULT_FOLDER))
        if not folder.is_dir():
            log.info("held-out evaluation off: no %s (give heldout.root=DIR)", folder)
            return None
    else:
        folder = Path(str(root)).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"heldout.root folder not found: {folder} (or heldout.root=null)")
    training = Path(str(cfg.data.root)).expanduser().resolve()
    held = folder.resolve()
    if held == training or training in held.parents or held in training.parents:
        raise ConfigError(
            f"heldout.root {folder} overlaps the training photos data.root={cfg.data.root}; "
            "give a folder of photos the network does not train on"
        )
    return folder


def heldout_photos(cfg: DictConfig) -> tuple[list[torch.Tensor], str] | None:
    """The held-out photos (each ``3×H×W`` in [0, 1]) and a label for them, or ``None`` when
    held-out evaluation is off."""
    folder = heldout_folder(cfg)
    if folder is None:
        return None
    node = cfg.heldout
    count = int(require_positive("heldout.num_photos", node.num_photos, allow_zero=False))
    size = int(require_positive("heldout.size", node.size, allow_zero=False))
    if size < MIN_SIDE:
        raise ConfigError(f"heldout.size must be >= {MIN_SIDE}, got {size}")
    paths = list_images(folder)[:count]
    if not paths:
        raise ConfigError(f"no photos in heldout.root={folder} (jpg, png, ...)")
    photos = [read_image(path, max_side=size) for path in paths]
    return photos, f"{len(photos)} {folder.name} photos, {size} px"


def heldout_callbacks(cfg: DictConfig, output: Path) -> list[Callback]:
    """``[HeldOutEvaluation]`` writing into ``output``, or ``[]`` when held-out evaluation is off."""
    found = heldout_photos(cfg)
    if found is None:
        return []
    photos, label = found
    every = int(require_positive("heldout.every", cfg.heldout.every, allow_zero=False))
    log.info("held-out evaluation: %s every %d steps", label, every)
    return [HeldOutEvaluation(photos, every=every, output=output, label=label)]


def finetune_gate_callbacks(cfg: DictConfig) -> list[Callback]:
    """``[FinetuneGate]`` for an ``experiment=new_style`` run whose last steps (not all) train
    the whole network (``new_style.full_fraction``), else ``[]``. It scores on the held-out
    photos, or on the first ``new_style.score_photos`` training photos when held-out
    evaluation is off."""
    options = new_style_options(cfg)
    if options is None or not 0 < options.full_steps < int(cfg.trainer.max_steps):
        return []
    found = heldout_photos(cfg)
    if found is None:
        files = list_photos(Path(str(cfg.data.root)).expanduser())[: options.score_photos]
        photos = [read_image(file, max_side=int(cfg.data.image_size)) for file in files]
        found = photos, f"{len(photos)} training photos, {int(cfg.data.image_size)} px"
    return [FinetuneGate(found[0], label=found[1])]
