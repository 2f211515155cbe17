"""HTTP routes: health, metrics, models, their ONNX files, and ``POST /v1/stylize`` (with a
shipped model, or with an uploaded painting on the arbitrary-style network)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse, Response
from python_multipart.multipart import parse_options_header
from starlette.formparsers import MultiPartException, MultiPartParser

from stylenet.arbitrary_contract import MIN_PAINTING_SIDE, PAINTING_MAX_SIDE
from stylenet.arbitrary_contract import SHIPPED_NAME as ARBITRARY
from stylenet.serve.arbitrary import DEFAULT_PAINTING_SIZE, PaintingStylizer
from stylenet.serve.http.errors import bad_request, not_found, timed_out, too_large
from stylenet.serve.http.images import (
    body_limit_message,
    check_pixels,
    decode_image,
    encode_image,
    image_size,
    limited,
    resize_longest,
)
from stylenet.serve.http.metrics import CONTENT_TYPE
from stylenet.serve.http.params import StyleOptions, check_style_options, style_options
from stylenet.serve.http.settings import MEDIA_TYPES, ServerSettings
from stylenet.serve.http.state import ServerState
from stylenet.serve.pipeline import stylize_array
from stylenet.serve.stylizer import Stylizer
from stylenet.serve.wct import TRANSFORMS

router = APIRouter()

IMAGE_BODY = {
    "requestBody": {
        "description": (
            "The photo: multipart field `image`, or the raw image as the body; any painting "
            "to imitate (no model needed): multipart field `painting`."
        ),
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "image": {"type": "string", "format": "binary"},
                        "painting": {"type": "string", "format": "binary"},
                    },
                    "required": ["image"],
                }
            },
            "image/*": {"schema": {"type": "string", "format": "binary"}},
        },
    },
    "responses": {
        "200": {"content": {m: {} for m in MEDIA_TYPES.values()}, "description": "Stylized"},
        "400": {"description": 'Bad input: `{"error": "..."}`'},
        "413": {"description": "Body or image too large"},
        "503": {"description": "Busy (see Retry-After) or models still loading"},
    },
}


def server(request: Request) -> ServerState:
    return request.app.state.stylenet


@router.get("/healthz", tags=["health"])
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@router.get("/readyz", tags=["health"])
async def readyz(request: Request) -> JSONResponse:
    """Readiness: 200 once the models are loaded, else 503."""
    state = server(request)
    if not state.ready.is_set():
        detail = state.load_error or "loading models"
        return JSONResponse({"status": "not ready", "error": detail}, status_code=503)
    return JSONResponse({"status": "ready", "models": list(state.models)})


@router.get("/metrics", tags=["health"], response_class=PlainTextResponse)
async def metrics(request: Request) -> PlainTextResponse:
    """Prometheus metrics (text format)."""
    return PlainTextResponse(server(request).metrics.render(), media_type=CONTENT_TYPE)


@router.get("/v1/models", tags=["models"])
async def list_models(request: Request) -> dict[str, Any]:
    """Every served model: name, styles and model card."""
    state = server(request)
    state.require_ready()
    return {
        "models": [m.summary() for m in state.models.values()],
        "paintings": state.arbitrary is not None,  # POST /v1/stylize takes a painting upload
    }


@router.get("/v1/models/{name}", tags=["models"])
async def describe_model(request: Request, name: str) -> dict[str, Any]:
    """One model's name, styles and card."""
    return server(request).model(name).summary()


@router.get("/v1/models/{name}/onnx", tags=["models"], response_model=None)
async def model_onnx(request: Request, name: str) -> Response:
    """The ONNX file itself, for client-side apps; ``ETag`` is its sha256."""
    served = server(request).model(name)
    if not served.is_onnx:
        raise not_found(f"model {name!r} is a checkpoint; export it with stylenet-export")
    etag = f'"{served.sha256}"'
    headers = {"ETag": etag, "Cache-Control": "no-cache"}
    wanted = request.headers.get("if-none-match", "")
    if etag in [tag.strip() for tag in wanted.split(",")] or wanted.strip() == "*":
        return Response(status_code=304, headers=headers)
    return FileResponse(
        served.path,
        media_type="application/octet-stream",
        filename=f"{served.name}.onnx",
        headers=headers,
    )


@router.post("/v1/stylize", tags=["stylize"], openapi_extra=IMAGE_BODY, response_model=None)
async def stylize(
    request: Request,
    model: str | None = Query(None, description="Model name (see /v1/models)"),
    style: str | None = Query(None, description="Multi-style models: one style"),
    blend: str | None = Query(None, description="starry_night:0.7,wave:0.3 or a JSON object"),
    strength: float = Query(1.0, description="0 = the photo, 1 = fully stylized"),
    preserve_color: bool = Query(False, description="Keep the photo's colours"),
    size: int | None = Query(None, description="Longest side to stylize at (px)"),
    format: str = Query("jpeg", description="jpeg | png | webp"),
    painting_size: int = Query(
        DEFAULT_PAINTING_SIZE, description="With a painting: its longest side for the statistics"
    ),
    transform: str = Query("wct", description="With a painting: wct | adain"),
) -> Response:
    """Stylize one image (multipart field ``image`` or the raw body) with ``model``, or with
    the painting of multipart field ``painting`` (any painting, no training)."""
    state = server(request)
    state.require_ready()
    # a named model is checked before the body is read; without one, a painting may come
    served = None if model in (None, ARBITRARY) else state.model(model)
    check_style_options(strength=strength, size=size, fmt=format)
    if transform not in TRANSFORMS:
        raise bad_request(f"transform must be one of {', '.join(TRANSFORMS)}, got {transform!r}")
    if not MIN_PAINTING_SIDE <= painting_size <= PAINTING_MAX_SIDE:
        raise bad_request(
            f"painting_size must be in [{MIN_PAINTING_SIDE}, {PAINTING_MAX_SIDE}] px, "
            f"got {painting_size}"
        )
    settings = state.settings
    with state.pool.admit():
        upload = await read_upload(request, settings.max_body_bytes, timeout=settings.body_timeout)
        if upload.painting is not None and served is not None:
            raise bad_request(
                f"a painting upload uses the arbitrary-style network; leave out model={model}"
            )
        if upload.painting is None and served is None:
            if model == ARBITRARY:
                raise bad_request(
                    "model=arbitrary needs the painting to imitate: send it as multipart field "
                    "'painting' (-F painting=@painting.jpg)"
                )
            served = state.model(None)
        styles = ["painting"] if served is None else served.styles
        options = style_options(
            styles,
            style=style,
            blend=blend,
            strength=strength,
            preserve_color=preserve_color,
            size=size,
            fmt=format,
        )
        width, height = image_size(upload.image)
        check_pixels(width, height, settings.max_pixels)
        if options.size is not None:
            scale = options.size / max(width, height)
            check_pixels(round(width * scale), round(height * scale), settings.max_pixels, "size=")
        if served is not None:
            body = await state.pool.run(
                stylize_bytes, served.stylizer, upload.image, options, settings
            )
            name = served.name
        else:
            network = state.painting_network()
            painting_width, painting_height = image_size(upload.painting or b"", "painting")
            check_pixels(painting_width, painting_height, settings.max_pixels, "painting")
            body = await state.pool.run(
                stylize_with_painting,
                network,
                upload,
                options,
                settings,
                painting_size=painting_size,
                transform=transform,
            )
            name = ARBITRARY
    return Response(body, media_type=MEDIA_TYPES[options.fmt], headers={"X-Stylenet-Model": name})


def stylize_with_painting(
    network: Any,
    upload: Upload,
    options: StyleOptions,
    settings: ServerSettings,
    *,
    painting_size: int,
    transform: str,
) -> bytes:
    """Decode the painting, take (or reuse) its statistics and stylize (on a worker thread)."""
    pixels = decode_image(upload.painting or b"", settings.max_pixels)
    painting = network.painting(pixels, size=painting_size, name="painting")
    stylizer = PaintingStylizer(network, painting, transform=transform)
    return stylize_bytes(stylizer, upload.image, options, settings)


def stylize_bytes(
    stylizer: Stylizer, data: bytes, options: StyleOptions, settings: ServerSettings
) -> bytes:
    """Decode, resize, stylize and encode one image (on a worker thread)."""
    image = decode_image(data, settings.max_pixels)
    if options.size is not None:
        image = resize_longest(image, options.size)
    result = stylize_array(
        stylizer,
        image,
        style_weights=options.weights,
        preserve_color=options.preserve_color,
        strength=options.strength,
    )
    return encode_image(result, options.fmt, settings.quality)


@dataclass(frozen=True)
class Upload:
    """A request's photo (``image``) and, with multipart field ``painting``, its painting."""

    image: bytes
    painting: bytes | None = None


async def read_upload(request: Request, limit: int, *, timeout: float) -> Upload:
    """The image from multipart field ``image`` (and ``painting``, if sent) or the raw body,
    at most ``limit`` bytes in all, arrived within ``timeout`` seconds (408 otherwise)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(body_limit_message(limit))
    try:
        return await asyncio.wait_for(_read_body(request, limit), timeout)
    except asyncio.TimeoutError as error:  # TimeoutError itself from Python 3.11
        raise timed_out(
            f"the request body did not arrive within {timeout:g} s; send it at once "
            "(the server's body_timeout= sets the limit)"
        ) from error


async def _read_body(request: Request, limit: int) -> Upload:
    stream = limited(request.stream(), limit)
    content_type, _ = parse_options_header(request.headers.get("content-type", ""))
    if content_type != b"multipart/form-data":
        return Upload(b"".join([chunk async for chunk in stream]))
    parser = MultiPartParser(request.headers, stream, max_files=2, max_fields=16)
    try:
        form = await parser.parse()
    except MultiPartException as error:
        raise bad_request(f"bad multipart body: {error.message}") from error
    try:
        upload = form.get("image")
        if upload is None or isinstance(upload, str):
            raise bad_request("multipart body has no file field 'image'; send -F image=@photo.jpg")
        painting = form.get("painting")
        if isinstance(painting, str):
            raise bad_request(
                "multipart field 'painting' must be a file: -F painting=@painting.jpg"
            )
        return Upload(await upload.read(), None if painting is None else await painting.read())
    finally:
        await form.close()
