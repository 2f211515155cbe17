"""Train (or continue) the models that ship in exported/, and export the finished ones.

Each model trains in ``training/<name>/`` with the recipe in ``conf/experiment/ship*.yaml``;
its ``checkpoints/last.ckpt``, CSV log, held-out curve and JPEG validation grids are kept in
the repository, so a run stopped at any point resumes from its last checkpoint (at most
``checkpoint_every`` steps are lost), on this machine or another. Only a model that reached
its step budget is exported (``exported/<name>.onnx`` + model card).

The repository keeps only what resume needs: ``last.ckpt`` (step checkpoints and
``interrupted.ckpt`` are ignored), committed at a few milestones (e.g. every 500 steps and the
end), not at every checkpoint, since each committed ``last.ckpt`` stays in the history at
full size. No ``.hydra/`` folders or job logs (they hold absolute machine paths): the runs
here write none (``hydra.output_subdir=null``), and ``.gitignore`` keeps them out.

    python scripts/train_shipped.py                    # every model, in order
    python scripts/train_shipped.py starry_night wave  # some of them
    python scripts/train_shipped.py --status           # steps done per model

Needs the shared data (styles + COCO photos): ``$STYLENET_DATA`` or ``../shared/data``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from stylenet.nn.checkpoint import read_checkpoint

REPO = Path(__file__).resolve().parents[1]
# Hydra writes no .hydra/ folder into training/<name>/ (the recipe is in conf/, the facts in
# the checkpoint)
NO_HYDRA_FOLDER = "hydra.output_subdir=null"
SINGLE_STYLES = ("starry_night", "the_scream", "wave", "composition_vii")
# real-time models (johnson_fast network): model name -> its style
FAST_MODELS = {"starry_night_fast": "starry_night"}
MODELS = (*SINGLE_STYLES, "multi_style", *FAST_MODELS)


def recipe(name: str) -> list[str]:
    """Hydra overrides of ``stylenet-train`` for model ``name``."""
    if name == "multi_style":
        return ["experiment=ship_multi"]
    if name in FAST_MODELS:
        return ["experiment=ship_fast", f"painting={FAST_MODELS[name]}"]
    return ["experiment=ship", f"painting={name}"]


def run_dir(name: str) -> Path:
    return REPO / "training" / name


def steps_done(name: str) -> int:
    last = run_dir(name) / "checkpoints" / "last.ckpt"
    return int(read_checkpoint(last).get("global_step", 0)) if last.is_file() else 0


def step_budget(name: str) -> int:
    from hydra import compose, initialize_config_dir

    from stylenet.config import config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return int(compose(config_name="train", overrides=recipe(name)).trainer.max_steps)


def train(name: str) -> None:
    last = run_dir(name) / "checkpoints" / "last.ckpt"
    resume = str(last) if last.is_file() else "null"
    command = [
        "stylenet-train",
        *recipe(name),
        f"resume={resume}",
        f"hydra.run.dir={run_dir(name)}",
        NO_HYDRA_FOLDER,
    ]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def export(name: str) -> None:
    last = run_dir(name) / "checkpoints" / "last.ckpt"
    out = REPO / "exported" / f"{name}.onnx"
    folder = run_dir(name) / "export"
    command = [
        "stylenet-export",
        f"model={last}",
        f"out={out}",
        f"hydra.run.dir={folder}",
        NO_HYDRA_FOLDER,
    ]
    print(" ".join(command), flush=True)
    subprocess.run(command, check=True, cwd=REPO)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(MODELS), help=f"of {', '.join(MODELS)}")
    parser.add_argument("--status", action="store_true", help="print steps done and exit")
    args = parser.parse_args()
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        sys.exit(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    for name in args.models:
        done, budget = steps_done(name), step_budget(name)
        if args.status:
            print(f"{name:16s} {done:5d} / {budget} steps")
            continue
        if done < budget:
            train(name)
        if steps_done(name) >= budget:
            export(name)


if __name__ == "__main__":
    main()
