"""``stylenet-train``: train a feed-forward style network from the Hydra config ``conf/train.yaml``."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig

from stylenet.cli.app import command
from stylenet.cli.config import build, config_dir
from stylenet.cli.errors import EXIT_INTERRUPTED, exit_on_error
from stylenet.cli.paths import resume_run_dir, run_dir

EXIT_PROCESS_LOST = 1

# Lightning's launcher watches the processes it started from a thread in the first one; when one
# of them dies it logs a line on this logger, then kills the whole job with SIGKILL, this process
# included, which may be before the failed collective reaches ``run``.
PROCESS_OBSERVER_LOGGER = "lightning.fabric.strategies.launchers.subprocess_script"


class TrainingInterrupted(Exception):
    """Ctrl-C during training; ``path`` is the checkpoint saved on the way out (or ``None``)."""

    def __init__(self, path: Path | None) -> None:
        super().__init__(f"interrupted, saved {path}" if path else "interrupted, nothing saved")
        self.path = path


class TrainingProcessLost(Exception):
    """Under DDP another process died or stopped answering (its collective failed or timed out).

    ``reported``: the error line was already printed (by :class:`LostProcessReport`)."""

    def __init__(self, message: str, *, reported: bool = False) -> None:
        super().__init__(message)
        self.reported = reported


def _lost_message(cause: str, last: Path) -> str:
    resume = f"resume with resume={last}" if last.is_file() else "no checkpoint was written yet"
    return f"a training process stopped or lost contact ({cause}); the job stops; {resume}"


class LostProcessReport(logging.Handler):
    """Prints the job's one error line when Lightning's observer logs a dead process.

    The observer kills the job right after logging, so the line is printed from its thread,
    before the kill; :meth:`claim` keeps ``run`` from printing it a second time."""

    def __init__(self, last: Path) -> None:
        super().__init__(level=logging.INFO)
        self.last = last
        self.said = False
        self._once = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if "terminated with code" not in text:
            return
        cause = text.split("] ", 1)[-1].split(". ", 1)[0]  # "Child process with PID … code -9"
        if self.claim():
            print(
                f"stylenet: error: {_lost_message(cause, self.last)}", file=sys.stderr, flush=True
            )

    def claim(self) -> bool:
        """``True`` for the first caller only: the one that reports the lost process."""
        with self._once:
            first, self.said = not self.said, True
        return first


@contextmanager
def report_lost_processes(last: Path) -> Iterator[LostProcessReport]:
    """Attach a :class:`LostProcessReport` to Lightning's process observer while training."""
    logger = logging.getLogger(PROCESS_OBSERVER_LOGGER)
    report = LostProcessReport(last)
    level = logger.level
    logger.addHandler(report)
    if not logger.isEnabledFor(logging.INFO):
        logger.setLevel(logging.INFO)
    try:
        yield report
    finally:
        logger.removeHandler(report)
        logger.setLevel(level)


def _lost_process(error: BaseException, report: LostProcessReport) -> TrainingProcessLost:
    text = str(error).strip()
    first = text.splitlines()[0][:200] if text else type(error).__name__
    cause = f"{type(error).__name__}: {first}"
    return TrainingProcessLost(_lost_message(cause, report.last), reported=not report.claim())


def run(cfg: DictConfig, overrides: list[str] | None = None) -> Path:
    """Train (or resume) as ``cfg`` says; returns the path of ``checkpoints/last.ckpt``.

    With ``resume=CKPT`` the run's own config (stored in the checkpoint) is the base and what
    ``cfg`` changes relative to the defaults is applied on top, and so is every key named in
    ``overrides`` (the command line's; taken from Hydra when ``None``)."""
    # deferred: torch and Lightning load only to train, not for --help or a command-line error
    import lightning as L

    from stylenet.cli.train_module import build_module
    from stylenet.cli.train_options import resumed_step, validate_train_config
    from stylenet.cli.train_resume import SaveTrainConfig, check_steps_left, resume_config
    from stylenet.cli.train_trainer import build_trainer

    if overrides is None and HydraConfig.initialized():
        overrides = list(HydraConfig.get().overrides.task)
    cfg = resume_config(cfg, overrides)
    validate_train_config(cfg)
    check_steps_left(cfg, resumed_step(cfg))
    L.seed_everything(int(cfg.seed), workers=True, verbose=False)
    output = run_dir()
    datamodule = build(cfg.data)
    module = build_module(cfg, output)
    trainer = build_trainer(cfg, output, extra_callbacks=[SaveTrainConfig(cfg)])
    with report_lost_processes(output / "checkpoints" / "last.ckpt") as report:
        try:
            trainer.fit(module, datamodule=datamodule, ckpt_path=cfg.resume, weights_only=True)
        except SystemExit as stop:  # Lightning turns Ctrl-C into exit(1) after its crash checkpoint
            if not trainer.interrupted or stop.code != 1:  # (SIGTERM: exit 143 as it is)
                raise
            saved = output / "checkpoints" / "interrupted.ckpt"
            raise TrainingInterrupted(saved if saved.is_file() else None) from None
        except RuntimeError as error:  # gloo/NCCL errors (DistBackendError, timeouts) included
            if trainer.world_size == 1:
                raise
            raise _lost_process(error, report) from None
    return output / "checkpoints" / "last.ckpt"


@command(config_path=config_dir(), config_name="train")
def _main(cfg: DictConfig) -> None:
    try:
        path = exit_on_error(run, cfg)
    except TrainingInterrupted as interrupted:
        print(f"stylenet: {interrupted}", file=sys.stderr)
        raise SystemExit(EXIT_INTERRUPTED) from None
    except TrainingProcessLost as lost:
        if not lost.reported:
            print(f"stylenet: error: {lost}", file=sys.stderr, flush=True)
        raise SystemExit(EXIT_PROCESS_LOST) from None
    from lightning.pytorch.utilities import rank_zero_only

    if getattr(rank_zero_only, "rank", 0) == 0:  # one line per job, not per process
        print(f"last checkpoint: {path}")


def main() -> None:
    """``stylenet-train``: a resumed run continues in its own run folder unless told otherwise."""
    sys.argv = resume_run_dir(sys.argv)
    _main()


if __name__ == "__main__":
    main()
