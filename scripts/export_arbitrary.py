"""Export the trained arbitrary-style autoencoder into ``exported/arbitrary/``.

    python scripts/export_arbitrary.py                      # training/arbitrary/checkpoints/last.ckpt
    python scripts/export_arbitrary.py --checkpoint CKPT --out FOLDER

Writes ``encoder.onnx``, ``decoder.onnx`` and ``card.json`` (how it was trained, the final
losses and the ONNX parity) and prints the parity (max |ONNX Runtime − PyTorch|, 0–255 scale).
"""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

from stylenet.export.arbitrary import export_autoencoder
from stylenet.nn.autoencoder import AutoencoderConfig, StyleAutoencoder
from stylenet.nn.checkpoint import read_checkpoint

REPO = Path(__file__).resolve().parents[1]
RUN = REPO / "training" / "arbitrary"
PARITY_LIMIT = 0.05  # 0–255 scale, as for the shipped single-style models


def last_losses(metrics: Path) -> dict[str, float]:
    """The last logged value of every training loss column of a CSVLogger ``metrics.csv``."""
    found: dict[str, float] = {}
    if not metrics.is_file():
        return found
    with metrics.open(newline="") as handle:
        for row in csv.DictReader(handle):
            for key, value in row.items():
                if key.startswith("train/") and value:
                    found[key.removeprefix("train/")] = round(float(value), 4)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkpoint", type=Path, default=RUN / "checkpoints" / "last.ckpt")
    parser.add_argument("--out", type=Path, default=REPO / "exported" / "arbitrary")
    args = parser.parse_args()
    checkpoint = read_checkpoint(args.checkpoint)
    hparams = checkpoint.get("hyper_parameters", {})
    net = StyleAutoencoder(
        AutoencoderConfig(widths=tuple(hparams.get("widths", (16, 32, 64, 128))))
    )
    weights = {
        key.removeprefix("net."): value
        for key, value in checkpoint["state_dict"].items()
        if key.startswith("net.")
    }
    net.load_state_dict(weights)
    facts = {
        "method": "photo-only decoder (Li et al. 2017) + distilled encoder (Wang et al. 2020)",
        "teacher": hparams.get("vgg_weights", "vgg19_caffe"),
        "steps": int(checkpoint.get("global_step", 0)),
        "trained_on": "COCO photos only (no paintings)",
        "final_losses": last_losses(
            args.checkpoint.parents[1] / "logs" / "version_0" / "metrics.csv"
        ),
    }
    parity = export_autoencoder(net, args.out, facts=facts)
    print(f"exported {args.out} (parity max |ORT - PyTorch| = {parity:.4f} on 0-255)")
    if parity > PARITY_LIMIT:
        raise SystemExit(f"parity {parity:.4f} is above {PARITY_LIMIT}: the export is wrong")


if __name__ == "__main__":
    main()
