"""Run a command-line entry point the way a user does and read its one-line error."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.paths import REPO


def cli_error_line(command: str, *overrides: str, cwd: Path | None = None) -> str:
    """Run ``python -m stylenet.cli.<command> <overrides>``; check it failed with exit
    status 2 and exactly one stderr line, and return that line."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [sys.executable, "-m", f"stylenet.cli.{command}", *overrides],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2, f"exit status {proc.returncode}; stderr:\n{proc.stderr}"
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, f"expected one stderr line, got {len(lines)}:\n{proc.stderr}"
    return lines[0]
