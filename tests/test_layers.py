"""The layering rules: the library (everything below ``stylenet/cli/`` and ``stylenet/lit/``)
is plain PyTorch/NumPy and loads neither Hydra, OmegaConf nor Lightning, and every module
imports only downwards (:data:`RANKS`)."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

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


@pytest.mark.slow
@pytest.mark.parametrize("package", LIBRARY)
def test_library_package_loads_no_config_stack(package: str) -> None:
    result = probe([f"stylenet.{package}"])
    assert len(result["modules"]) > 1, "the package's modules were not found"
    assert result["loaded"] == [], f"importing stylenet.{package} loads {result['loaded']}"


@pytest.mark.slow
def test_whole_library_loads_no_config_stack() -> None:
    """The library packages and the plain top-level modules together, in one interpreter."""
    names = [f"stylenet.{p}" for p in LIBRARY] + TOP_LEVEL
    result = probe(names)
    assert "stylenet.losses.perceptual" in result["modules"]
    assert result["loaded"] == [], f"the library loads {result['loaded']}"


@pytest.mark.slow
def test_probe_sees_the_config_stack() -> None:
    """The probe itself can fail: the CLI's config module does load Hydra."""
    assert "hydra" in probe(["stylenet.cli.config"])["loaded"]


# The import direction: a module imports only its own package and packages of a lower rank,
# at the top of the file or inside a function alike (a local import is no way around it).
RANKS = {
    "errors": 0,
    "stylenet": 1,  # the root: the version and the error type; the API only lazily (below)
    "options": 1,
    "contract": 1,
    "arbitrary_contract": 1,
    "data": 2,
    "styles": 2,
    "resources": 2,
    "provenance": 2,
    "extras": 2,
    "model_card": 3,
    "devices": 3,
    "nn": 3,
    "losses": 4,
    "methods": 5,
    "serve": 5,
    "eval": 6,
    "export": 6,
    "lit": 6,
    "api": 7,
    "cli": 8,
}
# the root's ``__getattr__`` hands out the API (imported on first use)
ALLOWED = {("stylenet", "api")}


def unit(module: str) -> str:
    """``stylenet.serve.http.routes`` → ``serve``; ``stylenet.errors`` → ``errors``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "stylenet"


def stylenet_imports(path: Path) -> list[tuple[str, int]]:
    """``(imported stylenet module, line)`` of every import in ``path``, local ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "stylenet":
                found += [(f"stylenet.{alias.name}", node.lineno) for alias in node.names]
            elif node.module.startswith("stylenet."):
                found.append((node.module, node.lineno))
        elif isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("stylenet")]
    return found


def test_every_module_imports_only_downwards() -> None:
    package = REPO / "stylenet"
    wrong = []
    for path in sorted(package.rglob("*.py")):
        if "node_modules" in path.parts:
            continue
        module = ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__")
        own = unit(module)
        assert own in RANKS, f"{module}: give its package a rank in RANKS"
        for imported, line in stylenet_imports(path):
            target = unit(imported)
            if target == "__version__":
                target = "stylenet"
            if target == own or (own, target) in ALLOWED:
                continue
            if RANKS.get(target, 99) >= RANKS[own]:
                wrong.append(f"{module}:{line} imports {imported} ({own} → {target})")
    assert not wrong, "imports against the layering:\n" + "\n".join(wrong)


def test_the_layering_check_can_fail(tmp_path: Path) -> None:
    """An upward import is found, a local one too."""
    (tmp_path / "m.py").write_text("def f():\n    from stylenet.cli.app import command\n")
    assert stylenet_imports(tmp_path / "m.py") == [("stylenet.cli.app", 2)]
    assert RANKS[unit("stylenet.cli.app")] > RANKS[unit("stylenet.serve.runtime")]
