"""The layering rule: the library (everything below ``stylenet/cli/`` and ``stylenet/lit/``)
is plain PyTorch/NumPy and loads neither Hydra, OmegaConf nor Lightning."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = ("hydra", "omegaconf", "lightning", "pytorch_lightning", "lightning_fabric")
LIBRARY = ["serve", "export", "eval", "methods", "losses", "nn", "data"]
TOP_LEVEL = [
    "stylenet.errors",
    "stylenet.model_card",
    "stylenet.options",
    "stylenet.provenance",
    "stylenet.resources",
    "stylenet.styles",
]
PROBE = """
import importlib, json, pkgutil, sys
names = json.loads(sys.argv[1])
modules = []
for name in names:
    module = importlib.import_module(name)
    modules.append(name)
    if hasattr(module, "__path__"):
        for info in pkgutil.walk_packages(module.__path__, name + "."):
            importlib.import_module(info.name)
            modules.append(info.name)
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"modules": modules, "loaded": loaded}))
"""


def probe(names: list[str]) -> dict[str, list[str]]:
    """Import ``names`` and all their submodules in a fresh interpreter."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            PROBE,
            json.dumps(names),
            json.dumps(FORBIDDEN),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", LIBRARY)
def test_library_package_loads_no_config_stack(package: str) -> None:
    result = probe([f"stylenet.{package}"])
    assert len(result["modules"]) > 1, "the package's modules were not found"
    assert result["loaded"] == [], f"importing stylenet.{package} loads {result['loaded']}"


def test_whole_library_loads_no_config_stack() -> None:
    """The library packages and the plain top-level modules together, in one interpreter."""
    names = [f"stylenet.{p}" for p in LIBRARY] + TOP_LEVEL
    result = probe(names)
    assert "stylenet.losses.perceptual" in result["modules"]
    assert result["loaded"] == [], f"the library loads {result['loaded']}"


def test_probe_sees_the_config_stack() -> None:
    """The probe itself can fail: the CLI's config module does load Hydra."""
    assert "hydra" in probe(["stylenet.cli.config"])["loaded"]
