"""Atomic file writes: a temporary file in the destination folder, renamed on success."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from stylenet.errors import OutputError


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; move it onto ``path`` only if the block succeeds.

    The temporary name keeps ``path``'s suffix so writers that pick a format from the
    extension still work. On any exception the temporary file is removed and ``path`` is
    left untouched (no half-written output).
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp_name = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=f".partial{target.suffix}", dir=target.parent
    )
    os.close(handle)
    tmp = Path(tmp_name)
    os.chmod(tmp, 0o666 & ~_current_umask())  # mkstemp makes 0600; give a normal file's mode
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def check_writable(path: str | os.PathLike[str]) -> Path:
    """Raise :class:`OutputError` unless a file can be written at ``path`` (its folder is
    created if missing; nothing else is left behind). Returns ``path``."""
    target = Path(path)
    if target.is_dir():
        raise OutputError(f"cannot write {target}: it is a folder; give a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=target.parent):
            pass
    except OSError as error:
        raise OutputError(
            f"cannot write {target}: {error.strerror or error}; choose a writable folder"
        ) from error
    return target


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
