"""stylenet-serve's config: settings from Hydra, bad values as one-line errors (exit 2)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from fastapi.testclient import TestClient
from hydra import compose, initialize_config_dir

from stylenet.cli.config import config_dir
from stylenet.cli.serve import build, settings_from
from stylenet.errors import ConfigError, ModelFileError
from tests.conftest import REPO, cli_error_line
from tests.serve.http.helpers import SINGLE, have_models


def config(*overrides: str):
    with initialize_config_dir(config_dir=config_dir(), version_base="1.3"):
        return compose(config_name="serve", overrides=list(overrides))


def test_defaults_and_settings(monkeypatch):
    monkeypatch.delenv("STYLENET_API_KEY", raising=False)
    cfg = config()
    assert (cfg.host, cfg.port, cfg.api_key) == ("127.0.0.1", 8000, None)
    settings = settings_from(config("models=[a,b]", "max_body_mb=2", "max_megapixels=1.5"))
    assert settings.models == ("a", "b") and settings.max_body_bytes == 2_000_000
    assert settings.max_pixels == 1_500_000 and settings.models == ("a", "b")
    assert settings.body_timeout == 30.0
    assert settings_from(config("body_timeout=2.5")).body_timeout == 2.5
    assert settings_from(config("models=wave")).models == ("wave",)
    monkeypatch.setenv("STYLENET_API_KEY", "from-env")
    assert settings_from(config()).api_key == "from-env"


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ("workers=0", "workers must be an integer >= 1"),
        ("queue=-1", "queue must be"),
        ("max_body_mb=0", "max_body_mb must be > 0"),
        ("body_timeout=0", "body_timeout must be > 0"),
        ("body_timeout=soon", "body_timeout must be a number"),
        ("port=70000", "port must be in"),
        ("quality=0", "quality must be in"),
        ("workers=two", "workers must be a whole number"),
    ],
)
def test_bad_values_raise_config_errors(override, words):
    with pytest.raises(ConfigError, match=words.replace("[", r"\[")):
        build(config(override, f"models=[{SINGLE}]"))


@pytest.mark.slow
def test_unknown_model_is_a_one_line_error_and_exit_2(tmp_path):
    with pytest.raises(ModelFileError, match="no shipped model named 'nope'"):
        build(config("models=[nope]"))
    line = cli_error_line("serve", "models=[missing.onnx]", cwd=tmp_path)
    assert line.startswith("stylenet: error:") and "missing.onnx" in line


@pytest.mark.skipif(not have_models(), reason="shipped models are not installed")
def test_build_gives_a_ready_app():
    with TestClient(build(config(f"models=[{SINGLE}]"))) as client:
        assert client.get("/readyz").json()["models"] == [SINGLE]


@pytest.mark.slow
def test_importing_the_server_does_not_import_torch():
    code = (
        "import sys, stylenet.serve.http.app, stylenet.serve.http.routes, "
        "stylenet.serve.http.live, stylenet.cli.serve; "
        "sys.exit(1 if 'torch' in sys.modules else 0)"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    assert subprocess.run([sys.executable, "-c", code], env=env, timeout=60).returncode == 0
