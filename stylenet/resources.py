"""Where stylenet's bundled files are: the config tree, the shipped models, the shared data.

Plain paths, no config stack: the library and apps import this; the Hydra CLI builds on it.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from stylenet.errors import ConfigError


def _package_dir() -> Path:
    return Path(str(resources.files("stylenet")))


def config_dir() -> str:
    """Absolute path of the ``conf/`` tree: inside the wheel, or at the repository root."""
    package_dir = _package_dir()
    for candidate in (package_dir / "conf", package_dir.parent / "conf"):
        if candidate.is_dir():
            return str(candidate)
    raise ConfigError(
        f"stylenet's config folder is missing next to {package_dir}; reinstall stylenet"
    )


def shipped_models_dir() -> Path:
    """``exported/``: the trained models that ship with stylenet (in the wheel or the checkout)."""
    package_dir = _package_dir()
    for candidate in (package_dir / "exported", package_dir.parent / "exported"):
        if candidate.is_dir():
            return candidate
    return package_dir.parent / "exported"


def shared_data_dir(subfolder: str = "") -> str:
    """The shared data folder (styles, photos): ``$STYLENET_DATA``, else ``../shared/data``
    next to the current directory or next to the stylenet checkout (first that exists)."""
    candidates = []
    if os.environ.get("STYLENET_DATA"):
        candidates.append(Path(os.environ["STYLENET_DATA"]).expanduser())
    candidates.append(Path.cwd().parent / "shared" / "data")
    candidates.append(_package_dir().parents[1] / "shared" / "data")
    for candidate in candidates:
        if (candidate / subfolder).exists():
            return str((candidate / subfolder).resolve())
    return str(candidates[0] / subfolder)
