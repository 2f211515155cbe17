"""Short fine-tune of the shipped multi-style network, with and without a spike penalty, judged
by the normalised-activation peak and the blob score (scripts/measure_blobs.py) before and
after.

The penalty (:mod:`stylenet.losses.spikes`, the training option ``spike_penalty.weight``): at
every norm layer, ``mean(relu(|x - μ| / σ - K)²)`` of the layer's input, i.e. normalised values
beyond ``K`` standard deviations cost, so the network cannot keep the localised spikes that
decode to blobs (Karras et al. 2020, Sec. 2). Both runs start from the
same checkpoint, see the same photos and style draws (same seed) and differ only in the penalty.

    python scripts/finetune_blobs.py --steps 150 --size 128 --penalty 1 --limit 4 \\
        --grid docs/blobs_before_after.png
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

import torch
from hydra import compose, initialize_config_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure_blobs import measure, photo_inputs, synthetic_inputs

from stylenet.cli.train_module import build_module
from stylenet.data.images import list_images, read_image, resize, save_image
from stylenet.lit.style_module import StyleTransferModule
from stylenet.losses.spikes import NormSpikes
from stylenet.nn.checkpoint import load_transformer
from stylenet.nn.transformer import TransformerNet
from stylenet.resources import config_dir, shared_data_dir

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "training" / "multi_style" / "checkpoints" / "last.ckpt"
STYLES = ("starry_night", "the_scream", "wave")


def score(
    net: TransformerNet, styles: list[str], inputs: list[torch.Tensor]
) -> tuple[float, float, list, float]:
    """Mean photo blob %, mean synthetic blob %, a row of outputs per style, max peak σ."""
    net.eval()
    synth, real, rows, peaks = [], [], [], []
    for style in STYLES:
        weights = torch.zeros(1, len(styles))
        weights[0, styles.index(style)] = 1.0
        scores, peak, outputs = measure(net, weights, inputs)
        peaks.append(peak)
        synth.append(100 * sum(scores[:2]) / 2)
        real.append(100 * sum(scores[2:]) / max(1, len(scores) - 2))
        rows.append(torch.cat(outputs, dim=3))
    net.train()
    return sum(real) / len(real), sum(synth) / len(synth), rows, max(peaks)


@torch.no_grad()
def heldout_loss(module: StyleTransferModule, photos: list[torch.Tensor]) -> float:
    """Mean content + style loss (TV excluded, fp32) of ``module`` over :data:`STYLES` on
    held-out ``photos`` (``3×H×W`` in [0, 1]): the quality the penalty must not cost."""
    was_training = module.net.training
    module.net.eval()
    total = 0.0
    for style in STYLES:
        weights = torch.zeros(1, len(module.styles))
        weights[0, module.styles.index(style)] = 1.0
        for photo in photos:
            terms, _ = module.compute_loss(photo[None], weights)
            total += float(terms.content.sum() + terms.style.sum())
    module.net.train(was_training)
    return total / (len(STYLES) * len(photos))


def finetune(
    args: argparse.Namespace, penalty: float, photos: list[torch.Tensor]
) -> StyleTransferModule:
    torch.manual_seed(0)
    random.seed(0)
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        cfg = compose(config_name="train", overrides=["experiment=ship_multi"])
    module = build_module(cfg, Path("/tmp"))
    shipped, info = load_transformer(SHIPPED)
    module.net.load_state_dict(shipped.state_dict())
    chosen = torch.tensor([info.styles.index(s) for s in STYLES])
    optimizer = torch.optim.Adam(module.net.parameters(), lr=args.lr)
    spikes_of = NormSpikes(module.net, limit=args.limit) if penalty > 0 else None
    start = time.perf_counter()
    for step in range(args.steps):
        batch = torch.stack(random.sample(photos, args.batch))
        if spikes_of is not None:
            spikes_of.clear()
        picks = chosen[torch.randint(len(chosen), (args.batch,))]
        weights = torch.nn.functional.one_hot(picks, len(info.styles)).float()
        terms, _ = module.compute_loss(batch, weights)
        perceptual = terms.total.mean()
        spikes = spikes_of.pop() if spikes_of is not None else perceptual.new_zeros(())
        loss = perceptual + penalty * spikes * perceptual.detach()  # penalty: relative weight
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 25 == 0 or step == args.steps - 1:
            print(
                f"  penalty {penalty:g} step {step}: loss {perceptual.item():.4g} "
                f"spikes {spikes.item():.4g} ({time.perf_counter() - start:.0f} s)",
                flush=True,
            )
    if spikes_of is not None:
        spikes_of.remove()
    return module


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--size", type=int, default=128)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--lr", type=float, default=2e-4)
    parser.add_argument("--penalty", type=float, default=1.0)
    parser.add_argument("--limit", type=float, default=4.0)
    parser.add_argument("--eval-photos", type=int, default=4)
    parser.add_argument("--grid", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(2)
    train_files = list_images(shared_data_dir("coco/train2017"))[:64]
    photos = [resize(read_image(p), size=(args.size, args.size)) for p in train_files]
    inputs = synthetic_inputs(256) + photo_inputs(
        Path(shared_data_dir("coco/val2017")), args.eval_photos, 256
    )
    shipped, info = load_transformer(SHIPPED)
    before = score(shipped, info.styles, inputs)
    print(
        f"shipped: peak {before[3]:.1f} σ, photo blob {before[0]:.2f} %, synthetic {before[1]:.2f} %"
    )
    heldout = [
        read_image(p, max_side=256)
        for p in list_images(shared_data_dir("coco/val2017"))[: args.eval_photos]
    ]
    results = {}
    for penalty in (0.0, args.penalty):
        module = finetune(args, penalty, photos)
        results[penalty] = score(module.net, info.styles, inputs)
        print(
            f"fine-tune {args.steps} steps, penalty {penalty:g}: peak {results[penalty][3]:.1f} σ, "
            f"photo blob {results[penalty][0]:.2f} %, synthetic {results[penalty][1]:.2f} %, "
            f"held-out content + style {heldout_loss(module, heldout):.4g}",
            flush=True,
        )
    if args.grid is not None:
        rows = [torch.cat(inputs, dim=3)]
        for index in range(len(STYLES)):
            rows += [before[2][index], results[0.0][2][index], results[args.penalty][2][index]]
        save_image(torch.cat(rows, dim=2)[0] / 255.0, args.grid)
        print(f"wrote {args.grid} (rows per style: shipped, fine-tune, fine-tune + penalty)")


if __name__ == "__main__":
    main()
