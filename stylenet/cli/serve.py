"""``stylenet-serve``: the HTTP API, web page and live WebSocket on uvicorn."""

from __future__ import annotations

import logging
import math
from typing import TYPE_CHECKING

from omegaconf import DictConfig, ListConfig

from stylenet.cli.app import command
from stylenet.cli.config import config_dir, require_positive
from stylenet.cli.errors import exit_on_error
from stylenet.errors import ConfigError
from stylenet.options import boolean

if TYPE_CHECKING:
    from fastapi import FastAPI

    from stylenet.serve.http.settings import ServerSettings

log = logging.getLogger(__name__)


def settings_from(cfg: DictConfig) -> ServerSettings:
    """The :class:`~stylenet.serve.http.settings.ServerSettings` of a ``serve`` config."""
    from stylenet.serve.http.settings import ServerSettings

    models = cfg.models
    if models is None:
        specs: tuple[str, ...] = ()
    elif isinstance(models, (ListConfig, list, tuple)):
        specs = tuple(str(m) for m in models)
    else:
        specs = (str(models),)
    body_mb = require_positive("max_body_mb", cfg.max_body_mb, allow_zero=False)
    megapixels = require_positive("max_megapixels", cfg.max_megapixels, allow_zero=False)
    body_timeout = require_positive("body_timeout", cfg.body_timeout, allow_zero=False)
    return ServerSettings(
        models=specs,
        workers=_integer("workers", cfg.workers),
        queue=_integer("queue", cfg.queue),
        max_body_bytes=int(body_mb * 1e6),
        max_pixels=int(megapixels * 1e6),
        body_timeout=float(body_timeout),
        retry_after=_integer("retry_after", cfg.retry_after),
        api_key=None if cfg.api_key is None else str(cfg.api_key),
        providers=None if cfg.providers is None else tuple(str(p) for p in cfg.providers),
        intra_op_threads=_integer("intra_op_threads", cfg.intra_op_threads),
        quality=_integer("quality", cfg.quality),
        live_side=_integer("live_side", cfg.live_side),
        arbitrary=boolean("arbitrary", cfg.get("arbitrary", True)),
    )


def _integer(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    return value


def build(cfg: DictConfig) -> FastAPI:
    """Validate ``cfg``, load its models (errors surface here, before listening) → the app."""
    from stylenet.serve.http.app import create_app
    from stylenet.serve.http.models import load_models

    port = _integer("port", cfg.port)
    if not 0 <= port <= 65535:
        raise ConfigError(f"port must be in [0, 65535], got {port}")
    if float(cfg.graceful_timeout) < 0:
        raise ConfigError(f"graceful_timeout must be >= 0, got {cfg.graceful_timeout}")
    settings = settings_from(cfg)
    models = load_models(
        settings.models, providers=settings.providers, intra_op_threads=settings.intra_op_threads
    )
    if str(cfg.host) not in ("127.0.0.1", "localhost", "::1") and settings.api_key is None:
        log.warning(
            "listening on %s without an API key (set api_key= or STYLENET_API_KEY)", cfg.host
        )
    return create_app(settings, models=models)


def run(cfg: DictConfig) -> None:
    """Serve until SIGINT/SIGTERM; in-flight requests finish (up to ``graceful_timeout``)."""
    import uvicorn

    app = build(cfg)
    config = uvicorn.Config(
        app,
        host=str(cfg.host),
        port=int(cfg.port),
        log_level=str(cfg.log_level),
        timeout_graceful_shutdown=math.ceil(float(cfg.graceful_timeout)),  # whole seconds
        ws_max_size=int(float(cfg.max_body_mb) * 1e6),  # one live frame, like one body
    )
    print(f"stylenet-serve: http://{cfg.host}:{cfg.port}/ (API docs at /docs)", flush=True)
    uvicorn.Server(config).run()


@command(config_path=config_dir(), config_name="serve")
def main(cfg: DictConfig) -> None:
    exit_on_error(run, cfg)


if __name__ == "__main__":
    main()
