"""ASGI middleware: the optional API key and the request metrics, for HTTP and WebSocket."""

from __future__ import annotations

import hmac
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from stylenet.serve.http.metrics import Metrics

Scope = dict[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]

# Open without the key: the health checks and the page's static files (no data in them).
PUBLIC_PATHS = ("/healthz", "/readyz", "/", "/browser", "/favicon.ico")
PUBLIC_PREFIXES = ("/static/",)


def is_public(path: str) -> bool:
    return path in PUBLIC_PATHS or path.startswith(PUBLIC_PREFIXES)


def presented_key(scope: Scope) -> str | None:
    """The key from ``X-API-Key``, ``Authorization: Bearer`` or the ``api_key`` query value."""
    for name, value in scope.get("headers", []):
        if name == b"x-api-key":
            return value.decode("latin-1")
        if name == b"authorization" and value.lower().startswith(b"bearer "):
            return value[7:].decode("latin-1").strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    return query.get("api_key", [None])[0]


class Guard:
    """Refuses requests without the API key (401 JSON; WebSocket close 1008) and counts
    every HTTP request by route template and status code."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, api_key: str | None) -> None:
        self.app = app
        self.metrics = metrics
        self.api_key = api_key

    def _authorized(self, scope: Scope) -> bool:
        if self.api_key is None or is_public(scope["path"]):
            return True
        key = presented_key(scope)
        return key is not None and hmac.compare_digest(key.encode(), self.api_key.encode())

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            if not self._authorized(scope):
                await send({"type": "websocket.close", "code": 1008, "reason": "API key needed"})
                return
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}
        self.metrics.started()

        async def send_status(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = int(message["status"])
            await send(message)

        try:
            if self._authorized(scope):
                await self.app(scope, receive, send_status)
            else:
                await unauthorized(send_status)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            self.metrics.finished(template, status["code"], time.perf_counter() - start)


async def unauthorized(send: Callable) -> None:
    body = json.dumps(
        {"error": "API key missing or wrong: send it as header X-API-Key (or ?api_key=)"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"www-authenticate", b"Bearer"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
