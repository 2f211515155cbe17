"""The FastAPI app: :func:`create_app` wires settings, models, workers, routes and the page."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from stylenet import __version__
from stylenet.errors import StylenetError
from stylenet.serve.http.errors import HTTPProblem
from stylenet.serve.http.guard import Guard
from stylenet.serve.http.metrics import Metrics
from stylenet.serve.http.models import ServedModel
from stylenet.serve.http.pool import WorkerPool
from stylenet.serve.http.settings import ServerSettings
from stylenet.serve.http.state import ServerState, load_arbitrary

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
ORT_DIST = WEB_DIR / "node_modules" / "onnxruntime-web" / "dist"  # after the npm step
NPM_COMMAND = "npm ci --prefix stylenet/serve/web"
MEDIA_BY_SUFFIX = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm"}


def ort_dist() -> Path:
    """onnxruntime-web's ``dist/`` folder: ``$STYLENET_ORT_DIST``, else the npm install's."""
    return Path(os.environ.get("STYLENET_ORT_DIST", str(ORT_DIST))).expanduser()


def create_app(
    settings: ServerSettings | None = None, *, models: dict[str, ServedModel] | None = None
) -> FastAPI:
    """The ASGI app. ``models``: already loaded models (else loaded in the background at
    startup; ``/readyz`` says when they are in)."""
    settings = settings or ServerSettings()
    pool = WorkerPool(settings.workers, settings.queue, settings.retry_after)
    metrics = Metrics(
        {
            "stylenet_queue_depth": (
                "Admitted requests waiting for a worker.",
                lambda: pool.queued,
            ),
            "stylenet_workers_busy": ("Inference workers running a job.", lambda: pool.running),
            "stylenet_workers": ("Inference workers.", lambda: pool.workers),
        }
    )
    state = ServerState(settings=settings, pool=pool, metrics=metrics)
    if models is not None:
        state.models = dict(models)
        state.arbitrary = load_arbitrary(settings)
        state.ready.set()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        loading = (
            None if state.ready.is_set() else asyncio.create_task(asyncio.to_thread(state.load))
        )
        yield
        if loading is not None:
            await loading
        await asyncio.to_thread(pool.shutdown)  # in-flight and queued jobs finish first

    app = FastAPI(
        title="stylenet-serve",
        version=__version__,
        description="Neural style transfer over HTTP: stylize images, list models, "
        "download ONNX files for client-side apps, stream live video over a WebSocket.",
        lifespan=lifespan,
    )
    app.state.stylenet = state
    _install_error_handlers(app)
    _install_page(app)

    from stylenet.serve.http import live, routes

    app.include_router(routes.router)
    app.include_router(live.router)
    app.add_middleware(Guard, metrics=metrics, api_key=settings.api_key)
    return app


def _error(status: int, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    line = " ".join(str(message).split())
    return JSONResponse({"error": line}, status_code=status, headers=headers)


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HTTPProblem)
    async def problem(request: Request, error: HTTPProblem) -> JSONResponse:
        return _error(error.status, str(error), error.headers)

    @app.exception_handler(StylenetError)
    async def stylenet_error(request: Request, error: StylenetError) -> JSONResponse:
        return _error(400, str(error))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        first = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())[1:]) or "request"
        given = first.get("input")
        return _error(400, f"{where}: {first.get('msg', 'invalid value')} (got {given!r})")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> JSONResponse:
        message = {404: f"no route {request.url.path}; see /docs"}.get(error.status_code)
        return _error(error.status_code, message or str(error.detail), error.headers)

    @app.exception_handler(Exception)
    async def crashed(request: Request, error: Exception) -> JSONResponse:
        log.exception("internal error on %s", request.url.path)
        return _error(500, f"internal error ({type(error).__name__}); the server keeps running")


def _install_page(app: FastAPI) -> None:
    """``/`` (the stylize page), ``/browser`` (in-browser ONNX Runtime) and their files."""

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    @app.get("/browser", include_in_schema=False)
    async def browser() -> FileResponse:
        return FileResponse(WEB_DIR / "browser.html")

    @app.api_route("/static/ort/{name}", methods=["GET", "HEAD"], include_in_schema=False)
    async def ort_asset(name: str) -> FileResponse:
        dist = ort_dist()
        path = dist / name
        if dist.is_dir() and path.parent == dist and path.is_file():
            media = MEDIA_BY_SUFFIX.get(path.suffix)
            return FileResponse(path, media_type=media)
        raise HTTPProblem(
            404,
            f"onnxruntime-web assets are missing ({name}); install them with: {NPM_COMMAND} "
            f"(installed package: npm ci --prefix {WEB_DIR}), or set STYLENET_ORT_DIST to "
            "onnxruntime-web's dist/ folder",
        )

    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
