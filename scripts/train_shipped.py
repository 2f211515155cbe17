"""Train (or continue) the models that ship in exported/, and export the finished ones.

Each model trains in ``training/<name>/`` with the recipe in ``conf/experiment/ship*.yaml``;
its ``checkpoints/last.ckpt``, CSV log, held-out curve and JPEG validation grids are kept in
the repository, so a run stopped at any point resumes from its last checkpoint (at most
``checkpoint_every`` steps are lost), on this machine or another. Only a model that reached
its step budget is exported (``exported/<name>.onnx`` + model card). A new style
(:data:`NEW_STYLES`, ``conf/experiment/new_style.yaml``) trains after the multi_style backbone
it starts from. A distilled student
(:data:`DISTILLED`, ``conf/experiment/distill.yaml``) trains after its teacher and ships under
the teacher's name when its held-out loss is within 2% of the teacher's (the lowest such
student; one in :data:`WARM_STARTS` starts from another student, ``distill_warm.yaml``).

The repository keeps only what resume needs: ``last.ckpt`` (step checkpoints and
``interrupted.ckpt`` are ignored), committed at a few milestones (e.g. every 500 steps and the
end), not at every checkpoint, since each committed ``last.ckpt`` stays in the history at
full size. No ``.hydra/`` folders or job logs (they hold absolute machine paths): the runs
here write none (``hydra.output_subdir=null``), and ``.gitignore`` keeps them out.

    python scripts/train_shipped.py                    # every model, in order
    python scripts/train_shipped.py starry_night wave  # some of them
    python scripts/train_shipped.py --status           # steps done per model
    python scripts/train_shipped.py --restart the_scream  # retrain under a changed recipe

A run trained under another recipe than today's ``conf/experiment/ship*.yaml`` (network,
schedule, data, learning rate, loss; the step budget too where the schedule depends on it) is
neither resumed nor exported: the script says what changed, and ``--restart`` moves the old
run aside to ``training/<name>.previous/`` (not tracked; the committed one stays in the git
history) and trains anew.

To stop a run, press Ctrl-C or send this script SIGTERM (``kill <pid>``; it passes the signal
on to ``stylenet-train``): the run stops, and the same command continues it.

Needs the shared data (styles + COCO photos): ``$STYLENET_DATA`` or ``../shared/data``.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from stylenet.nn.checkpoint import read_checkpoint

REPO = Path(__file__).resolve().parents[1]
# Hydra writes no .hydra/ folder into training/<name>/ (the recipe is in conf/, the facts in
# the checkpoint)
NO_HYDRA_FOLDER = "hydra.output_subdir=null"
SINGLE_STYLES = ("starry_night", "the_scream", "wave")
# real-time models (johnson_fast network): model name -> its style
FAST_MODELS = {"starry_night_fast": "starry_night"}
# styles fine-tuned from the multi_style backbone (experiment=new_style) as if they were new:
# the backbone's own (γ, β) for the painting are left out of the starting points
NEW_STYLES = ("composition_vii", "udnie", "shipwreck", "woman_with_hat")
# distilled students (johnson_lean, experiment=distill): run name -> the model it ships as;
# its teacher (training/<model>/) trains first and is exported only while no student qualifies
RESTYLED = {f"{style}_lean": style for style in (*SINGLE_STYLES[1:], *NEW_STYLES)}
# each student refined on the plain objective from the one before it (experiment=distill_warm)
REFINED = {f"{name}_warm": name for name in ("starry_night_lean", *RESTYLED)}
DISTILLED = {
    student: model
    for name, model in {"starry_night_lean": "starry_night", **RESTYLED}.items()
    for student in (name, f"{name}_warm")
}
# students that start from another student's weights (experiment=distill_warm): run name -> the
# run it starts from, which trains first; the rest start from random weights. Every style but
# starry_night starts from starry_night's refined student (RESTYLED) at the full learning rate,
# since its (γ, β) and textures change painting; the refinements of those go on at that rate
# and for twice distill_warm's steps, since 800 steps leave them short of their teachers
WARM_STARTS = REFINED | {name: "starry_night_lean_warm" for name in RESTYLED}
# what those runs change of distill_warm's recipe (its 800 steps at 3e-4)
WARM_OVERRIDES = {name: ["lr=1.0e-3"] for name in RESTYLED} | {
    f"{name}_warm": ["lr=1.0e-3", "trainer.max_steps=1600"] for name in RESTYLED
}
MODELS = (*SINGLE_STYLES, "multi_style", *NEW_STYLES, *FAST_MODELS, *DISTILLED)


def recipe(name: str) -> list[str]:
    """Hydra overrides of ``stylenet-train`` for model ``name``."""
    if name == "multi_style":
        return ["experiment=ship_multi"]
    if name in FAST_MODELS:
        return ["experiment=ship_fast", f"painting={FAST_MODELS[name]}"]
    if name in WARM_STARTS:
        start = f"training/{WARM_STARTS[name]}/checkpoints/last.ckpt"  # from the repository
        return [
            "experiment=distill_warm",
            f"painting={DISTILLED[name]}",
            f"distill.init={start}",
            *WARM_OVERRIDES.get(name, []),
        ]
    if name in DISTILLED:
        return ["experiment=distill", f"painting={DISTILLED[name]}"]
    if name in NEW_STYLES:
        return ["experiment=new_style", f"painting={name}", f"new_style.exclude=[{name}]"]
    return ["experiment=ship", f"painting={name}"]


def run_dir(name: str) -> Path:
    return REPO / "training" / name


def steps_done(name: str) -> int:
    last = run_dir(name) / "checkpoints" / "last.ckpt"
    return int(read_checkpoint(last).get("global_step", 0)) if last.is_file() else 0


def recipe_config(name: str) -> dict[str, Any]:
    """Today's recipe of model ``name`` as a plain, unresolved config."""
    from hydra import compose, initialize_config_dir

    from stylenet.cli.values import plain_dict
    from stylenet.resources import config_dir

    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return plain_dict(compose(config_name="train", overrides=recipe(name)), resolve=False)


def step_budget(name: str) -> int:
    return int(recipe_config(name)["trainer"]["max_steps"])


# what makes a recipe; the step budget too when the schedule is laid over it
RECIPE_KEYS = (
    "net",
    "perceptual",
    "painting",
    "styles",
    "data",
    "lr",
    "schedule",
    "seed",
    "spike_penalty",
    "distill",
)
DATA_FOLDERS = ("root",)  # where the photos are on this machine: not the recipe


def _schedule_uses_steps(config: dict[str, Any]) -> bool:
    schedule = config.get("schedule") or {}
    return bool(schedule.get("coarse_fraction")) or schedule.get("lr") == "cosine"


def recipe_changes(name: str, recipe: dict[str, Any] | None = None) -> list[str]:
    """How the run in ``training/<name>/`` differs from today's recipe (``key: old -> new``;
    ``recipe``: :func:`recipe_config`'s, composed when not given); ``[]`` when it matches or
    there is no run."""
    from stylenet.cli.config import upgrade_train_config

    last = run_dir(name) / "checkpoints" / "last.ckpt"
    if not last.is_file():
        return []
    saved = read_checkpoint(last).get("stylenet_train_config")
    if not isinstance(saved, dict):
        return ["its recipe is not recorded (trained before checkpoints stored their config)"]
    old, new = upgrade_train_config(saved), recipe or recipe_config(name)
    keys = list(RECIPE_KEYS)
    if _schedule_uses_steps(old) or _schedule_uses_steps(new):
        keys.append("trainer.max_steps")
    changes: list[str] = []
    for key in keys:
        changes += _differences(key, _lookup(old, key), _lookup(new, key))
    return changes


def _lookup(tree: Any, key: str) -> Any:
    for part in key.split("."):
        tree = tree.get(part) if isinstance(tree, dict) else None
    return tree


def _differences(key: str, old: Any, new: Any) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = []
        for sub in sorted(old.keys() | new.keys()):
            if key == "data" and sub in DATA_FOLDERS:
                continue
            out += _differences(f"{key}.{sub}", old.get(sub), new.get(sub))
        return out
    return [] if old == new else [f"{key}: {old} -> {new}"]


def restart(name: str) -> Path:
    """Move ``training/<name>/`` aside to ``training/<name>.previous/`` (replacing an older one)."""
    folder = run_dir(name)
    aside = folder.with_name(f"{name}.previous")
    if aside.exists():
        shutil.rmtree(aside)
    folder.rename(aside)
    return aside


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
    code = run_command(command)
    if code != 0:
        sys.exit(
            f"training/{name} stopped at step {steps_done(name)} of {step_budget(name)} "
            f"(stylenet-train exit code {code}); run the same command to continue"
        )


def run_command(command: list[str]) -> int:
    """Run ``command`` in the repository; its exit code. SIGTERM sent to this script goes on
    to the command's process alone (not to its data-loader workers), and Ctrl-C, which the
    terminal sends to both, waits for the command to save and stop."""
    proc = subprocess.Popen(command, cwd=REPO)
    previous = signal.signal(signal.SIGTERM, lambda signum, frame: proc.send_signal(signum))
    try:
        while True:
            try:
                return proc.wait()
            except KeyboardInterrupt:
                continue  # the command got the same Ctrl-C: wait for it to finish stopping
    finally:
        signal.signal(signal.SIGTERM, previous)


def export(name: str) -> None:
    last = run_dir(name) / "checkpoints" / "last.ckpt"
    out = REPO / "exported" / f"{DISTILLED.get(name, name)}.onnx"
    folder = run_dir(name) / "export"
    command = [
        "stylenet-export",
        f"model={last}",
        f"out={out}",
        f"hydra.run.dir={folder}",
        NO_HYDRA_FOLDER,
    ]
    print(" ".join(command), flush=True)
    if run_command(command) != 0:
        sys.exit(f"exporting {name} failed (the error is above)")


QUALIFY = 1.02  # a student ships when its held-out loss is within 2% of its teacher's


def final_heldout(name: str) -> float | None:
    """The last held-out loss (content + style) in ``training/<name>/heldout.csv``."""
    import csv

    file = run_dir(name) / "heldout.csv"
    if not file.is_file():
        return None
    rows = list(csv.DictReader(file.open()))
    return float(rows[-1]["loss"]) if rows else None


def shipped_student(teacher: str, *, quiet: bool = False) -> str | None:
    """The student that ships as ``teacher``'s model: of the finished ones within
    :data:`QUALIFY` of its held-out loss, the lowest; ``None`` when none is (each one that is
    not says why, unless ``quiet``)."""
    qualified = {}
    for student in (name for name, model in DISTILLED.items() if model == teacher):
        if steps_done(student) < step_budget(student):
            continue
        mine, theirs = final_heldout(student), final_heldout(teacher)
        if mine is None or theirs is None or mine > QUALIFY * theirs:
            if not quiet:
                print(
                    f"{student} is not shipped: held-out loss {mine} against its teacher's {theirs}"
                )
            continue
        qualified[student] = mine
    return min(qualified, key=qualified.__getitem__) if qualified else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="*", default=list(MODELS), help=f"of {', '.join(MODELS)}")
    parser.add_argument("--status", action="store_true", help="print steps done and exit")
    parser.add_argument(
        "--restart",
        action="store_true",
        help="a run under an older recipe is moved to training/<name>.previous/ and retrained",
    )
    args = parser.parse_args()
    unknown = [m for m in args.models if m not in MODELS]
    if unknown:
        sys.exit(f"unknown model(s) {unknown}; choose from {', '.join(MODELS)}")
    for name in args.models:
        config = recipe_config(name)
        done, budget = steps_done(name), int(config["trainer"]["max_steps"])
        changes = recipe_changes(name, config)
        if args.status:
            older = f"  (not today's recipe: {'; '.join(changes)})" if changes else ""
            print(f"{name:22s} {done:5d} / {budget} steps{older}")
            continue
        if changes and not args.restart:
            sys.exit(
                f"training/{name} was trained under another recipe ({'; '.join(changes)}): "
                f"retrain with --restart (it moves the old run to training/{name}.previous/)"
            )
        if changes:
            print(f"moved the old run to {restart(name)}", flush=True)
            done = 0
        if done < budget:
            train(name)
        if steps_done(name) < budget:
            continue
        if name in DISTILLED:
            if shipped_student(DISTILLED[name]) == name:
                export(name)
        elif name not in DISTILLED.values() or shipped_student(name, quiet=True) is None:
            export(name)  # a teacher only until one of its distilled students qualifies


if __name__ == "__main__":
    main()
