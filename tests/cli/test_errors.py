from __future__ import annotations

import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow

SCRIPT = """
from stylenet.cli.errors import exit_on_error
exit_on_error(lambda: print("\\n".join(f"model {{i}}" for i in range({lines}))))
"""


def _run_with_closed_reader(lines: int) -> subprocess.CompletedProcess[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.format(lines=lines)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # the reader went away, as `| head -1` or `| grep -q` do
    stderr = process.stderr.read()
    return subprocess.CompletedProcess(process.args, process.wait(), b"", stderr)


def test_a_reader_closing_the_pipe_early_is_not_an_error() -> None:
    for lines in (3, 20_000):  # buffered until exit, and flushed while printing
        result = _run_with_closed_reader(lines)
        assert result.returncode == 0, result.stderr.decode()
        assert b"Traceback" not in result.stderr and b"BrokenPipe" not in result.stderr
