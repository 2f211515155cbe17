"""Train the arbitrary-style autoencoder (photos only) and resume where it stopped.

    python scripts/train_arbitrary.py                       # training/arbitrary, resumes
    python scripts/train_arbitrary.py --steps 6000 --data /path/to/photos

Checkpoints go to ``<out>/checkpoints/last.ckpt`` (every ``--every`` steps and at the end);
running the same command again continues from it. Export with
``python scripts/export_arbitrary.py`` (encoder + decoder ONNX graphs and a model card).
"""

from __future__ import annotations

import argparse
import os
import warnings
from pathlib import Path

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

from stylenet.cli.train_callbacks import resumed_log_version
from stylenet.lit.autoencoder import AutoencoderModule
from stylenet.lit.datamodule import PhotoDataModule
from stylenet.nn.checkpoint import read_checkpoint

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = (
    Path(os.environ.get("STYLENET_DATA", REPO.parent / "shared" / "data")) / "coco" / "train2017"
)


def log_version(last: Path) -> str:
    """The CSV log's folder under ``logs/``: ``version_0`` for a fresh run (as the first runs
    wrote), ``from_step_NNNNNN`` when resuming from ``last``."""
    if not last.is_file():
        return "version_0"
    return resumed_log_version(int(read_checkpoint(last).get("global_step", 0)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="folder of photos")
    parser.add_argument("--out", type=Path, default=REPO / "training" / "arbitrary")
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--image-size", type=int, default=160)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--widths", type=int, nargs=4, default=[16, 32, 64, 128])
    parser.add_argument("--noise", type=float, default=0.0, help="bottleneck noise (std share)")
    parser.add_argument("--every", type=int, default=100, help="checkpoint every N steps")
    parser.add_argument("--precision", default="bf16-mixed", help="Lightning precision")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    warnings.filterwarnings(
        "ignore", message=r".*(dataloader is not resumable|eval mode|LeafSpec).*"
    )
    L.seed_everything(0, workers=True, verbose=False)
    last = args.out / "checkpoints" / "last.ckpt"
    module = AutoencoderModule(widths=tuple(args.widths), lr=args.lr, noise=args.noise)
    data = PhotoDataModule(
        root=str(args.data),
        image_size=args.image_size,
        batch_size=args.batch_size,
        num_val=8,
        num_workers=1,
        zoom=1.5,
        flip=True,
    )
    trainer = L.Trainer(
        accelerator="cpu",
        max_steps=args.steps,
        precision=args.precision,
        default_root_dir=str(args.out),
        # a resumed run logs into logs/from_step_NNNNNN/: appending to the first run's
        # metrics.csv would repeat the steps after its last checkpoint
        logger=CSVLogger(str(args.out), name="logs", version=log_version(last)),
        callbacks=[
            ModelCheckpoint(
                dirpath=str(args.out / "checkpoints"),
                filename="step_{step:06d}",
                every_n_train_steps=args.every,
                save_last=True,
                save_top_k=1,
                monitor="step",
                mode="max",
                auto_insert_metric_name=False,
            )
        ],
        limit_val_batches=1,
        val_check_interval=500,
        check_val_every_n_epoch=None,
        log_every_n_steps=10,
        enable_model_summary=False,
    )
    trainer.fit(
        module, datamodule=data, ckpt_path=str(last) if last.is_file() else None, weights_only=True
    )


if __name__ == "__main__":
    main()
