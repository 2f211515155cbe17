"""A disk cache of per-image features of a folder, keyed by (folder contents, layer, weights).

Entries are ``.npz`` files named by a SHA-256 of the key; they are written atomically, so an
interrupted run never leaves a half-written entry. The folder's fingerprint covers every
file's relative path, size and modification time: adding, removing or editing a photo
makes a new entry.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from stylenet.data.atomic import atomic_path

CACHE_ENV = "STYLENET_CACHE"
Arrays = dict[str, np.ndarray]


def default_cache_dir() -> Path:
    """``$STYLENET_CACHE/features``, else ``$XDG_CACHE_HOME/stylenet/features``, else
    ``~/.cache/stylenet/features``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser() / "features"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "stylenet" / "features"


def files_fingerprint(files: Sequence[Path], root: Path | None = None) -> str:
    """SHA-256 over each file's path (relative to ``root``), size and modification time."""
    digest = hashlib.sha256()
    for file in files:
        stat = file.stat()
        name = file.relative_to(root) if root is not None else file.resolve()
        digest.update(f"{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def cache_key(**parts: object) -> str:
    """A stable hex key for the keyword ``parts`` (JSON-serialisable values)."""
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


class FeatureCache:
    """``root/<key>.npz`` entries of named arrays; ``root=None`` disables caching."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def path(self, key: str) -> Path | None:
        return None if self.root is None else self.root / f"{key}.npz"

    def load(self, key: str) -> Arrays | None:
        """The arrays stored under ``key``, or ``None`` (absent or unreadable entry)."""
        path = self.path(key)
        if path is None or not path.is_file():
            return None
        try:
            with np.load(path, allow_pickle=False) as data:
                return {name: data[name] for name in data.files}
        except (OSError, ValueError, EOFError):
            return None

    def save(self, key: str, arrays: Arrays) -> None:
        """Store ``arrays`` under ``key`` atomically (a no-op when caching is off)."""
        path = self.path(key)
        if path is None:
            return
        with atomic_path(path) as tmp, tmp.open("wb") as handle:
            np.savez(handle, allow_pickle=False, **arrays)

    def get_or_compute(self, key: str, compute: Callable[[], Arrays]) -> tuple[Arrays, bool]:
        """``(arrays, hit)``: the cached entry, or ``compute()`` stored and returned."""
        cached = self.load(key)
        if cached is not None:
            return cached, True
        arrays = compute()
        self.save(key, arrays)
        return arrays, False
