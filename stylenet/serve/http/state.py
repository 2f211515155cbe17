"""What the routes share: settings, the loaded models, the worker pool and the metrics."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from stylenet.errors import StylenetError
from stylenet.serve.http.errors import HTTPProblem, not_found
from stylenet.serve.http.metrics import Metrics
from stylenet.serve.http.models import ServedModel, load_models
from stylenet.serve.http.pool import WorkerPool
from stylenet.serve.http.settings import ServerSettings

log = logging.getLogger(__name__)


@dataclass
class ServerState:
    settings: ServerSettings
    pool: WorkerPool
    metrics: Metrics
    models: dict[str, ServedModel] = field(default_factory=dict)
    ready: threading.Event = field(default_factory=threading.Event)
    load_error: str | None = None
    arbitrary: Any = None  # the ArbitraryNetwork for painting uploads (None: not served)

    def load(self) -> None:
        """Open the configured models (in a background thread at startup)."""
        try:
            self.models = load_models(
                self.settings.models,
                providers=self.settings.providers,
                intra_op_threads=self.settings.intra_op_threads,
            )
            self.arbitrary = load_arbitrary(self.settings)
            self.ready.set()
        except StylenetError as error:
            self.load_error = str(error)
            log.error("cannot load the models: %s", error)

    def painting_network(self) -> Any:
        """The arbitrary-style network (400 when this server does not offer one)."""
        self.require_ready()
        if self.arbitrary is None:
            raise HTTPProblem(
                400,
                "this server takes no paintings (no arbitrary-style network: start it with "
                "arbitrary=true and the shipped exported/arbitrary/ installed)",
            )
        return self.arbitrary

    def require_ready(self) -> None:
        """503 (with the load error, if any) until the models are loaded."""
        if not self.ready.is_set():
            raise HTTPProblem(
                503,
                self.load_error or "the models are still loading; retry shortly",
                {"Retry-After": "1"},
            )

    def model(self, name: str | None) -> ServedModel:
        """The model ``name`` (404 if unknown); ``None`` is fine when only one is served."""
        self.require_ready()
        names = ", ".join(self.models)
        if name is None:
            if len(self.models) == 1:
                return next(iter(self.models.values()))
            raise HTTPProblem(400, f"model= is required; this server has: {names}")
        if name not in self.models:
            raise not_found(f"no model named {name!r}; this server has: {names}")
        return self.models[name]


def load_arbitrary(settings: ServerSettings) -> Any:
    """The shipped arbitrary-style network when ``settings.arbitrary`` and it is installed."""
    from stylenet.serve.arbitrary import ArbitraryNetwork, is_arbitrary_model, shipped_arbitrary_dir

    if not settings.arbitrary or not is_arbitrary_model(shipped_arbitrary_dir()):
        return None
    network = ArbitraryNetwork(
        providers=settings.providers, intra_op_threads=settings.intra_op_threads
    )
    log.info("serving the arbitrary-style network (painting uploads)")
    return network
