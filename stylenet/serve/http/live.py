"""``WS /v1/live``: JPEG frames in, stylized JPEG frames out, newest frame first.

A receiver keeps only the newest frame that arrived; a processor stylizes it on the worker
pool and sends it back, then takes whatever is newest then (frames that arrived meanwhile
are dropped, as the webcam loop does). Each connection has its own
:class:`~stylenet.serve.temporal.TemporalStabilizer`. Text messages are JSON option
changes (``{"style": "wave"}``, ``{"blend": "a:0.5,b:0.5", "strength": 0.8}``); problems
come back as text ``{"error": "..."}`` and the stream goes on. The stabiliser needs OpenCV
(the video extra): without it a connection gets that one error and is closed (code 1008).
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

import anyio
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from stylenet.errors import StylenetError
from stylenet.extras import require_video_extra
from stylenet.serve.http.images import decode_image, encode_image, resize_longest
from stylenet.serve.http.models import ServedModel
from stylenet.serve.http.params import StyleOptions, style_options
from stylenet.serve.http.state import ServerState
from stylenet.serve.pipeline import stylize_array

if TYPE_CHECKING:
    from stylenet.serve.temporal import TemporalStabilizer

log = logging.getLogger(__name__)
router = APIRouter()

OPTION_NAMES = ("style", "blend", "strength", "preserve_color", "size", "temporal")
LIVE_QUALITY = 80
BUSY_PAUSE_S = 0.01


class LatestFrame:
    """A one-frame mailbox: :meth:`put` replaces an unread frame (counted as dropped)."""

    def __init__(self) -> None:
        self._frame: bytes | None = None
        self._event = asyncio.Event()
        self.dropped = 0

    def take_newer(self, frame: bytes) -> bytes:
        """``frame``, or a newer one that arrived meanwhile (``frame`` is then dropped)."""
        if self._frame is None:
            return frame
        self.dropped += 1
        self._event.clear()
        newer, self._frame = self._frame, None
        return newer

    def put(self, frame: bytes) -> None:
        if self._frame is not None:
            self.dropped += 1
        self._frame = frame
        self._event.set()

    async def take(self) -> bytes:
        await self._event.wait()
        self._event.clear()
        frame, self._frame = self._frame, None
        assert frame is not None
        return frame


class LiveSession:
    """One connection's model, options and stabiliser."""

    def __init__(self, served: ServedModel, raw: dict[str, Any], side: int) -> None:
        self.served = served
        self.side = side
        self.raw: dict[str, Any] = {}
        self.update(raw)

    def update(self, changes: dict[str, Any]) -> None:
        """Apply option changes (400-style errors raise; the old options stay)."""
        unknown = sorted(set(changes) - set(OPTION_NAMES))
        if unknown:
            raise StylenetError(f"unknown live option(s) {unknown}; use {list(OPTION_NAMES)}")
        raw = {**self.raw, **{k: v for k, v in changes.items()}}
        if "style" in changes and "blend" not in changes:
            raw.pop("blend", None)
        if "blend" in changes and "style" not in changes:
            raw.pop("style", None)
        options = style_options(
            self.served.styles,
            style=raw.get("style"),
            blend=_text(raw.get("blend")),
            strength=float(raw.get("strength", 1.0)),
            preserve_color=_flag(raw.get("preserve_color", False)),
            size=None if raw.get("size") in (None, "") else int(raw["size"]),
        )
        from stylenet.serve.temporal import TemporalStabilizer  # OpenCV: the video extra

        temporal = float(raw.get("temporal", 0.6))
        self.stabilizer: TemporalStabilizer = TemporalStabilizer(strength=temporal)
        self.options: StyleOptions = options
        self.raw = raw

    def stylize(self, data: bytes, max_pixels: int) -> bytes:
        """One JPEG frame → one stylized JPEG frame (on a worker thread)."""
        frame = decode_image(data, max_pixels)
        side = min(self.options.size or self.side, self.side)
        if max(frame.shape[:2]) > side:
            frame = resize_longest(frame, side)
        stylized = stylize_array(
            self.served.stylizer,
            frame,
            style_weights=self.options.weights,
            preserve_color=self.options.preserve_color,
            strength=self.options.strength,
            tile_size=-1,
        )
        return encode_image(self.stabilizer(stylized, frame), "jpeg", LIVE_QUALITY)


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _flag(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


@router.websocket("/v1/live")
async def live(websocket: WebSocket) -> None:
    """Stream JPEG frames (binary messages) and get stylized JPEG frames back."""
    state: ServerState = websocket.app.state.stylenet
    query = dict(websocket.query_params)
    query.pop("api_key", None)
    await websocket.accept()
    try:
        require_video_extra("WS /v1/live")
        served = state.model(query.pop("model", None))
        session = LiveSession(served, query, state.settings.live_side)
    except (StylenetError, ValueError) as error:
        await websocket.send_json({"error": " ".join(str(error).split())})
        await websocket.close(code=1008)
        return
    mailbox = LatestFrame()
    try:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(_process, websocket, session, mailbox, state)
            await _receive(websocket, session, mailbox)
            tasks.cancel_scope.cancel()  # the client left: stop stylizing for it
    except WebSocketDisconnect:
        pass
    finally:
        state.metrics.live_frame("dropped", mailbox.dropped)


async def _receive(websocket: WebSocket, session: LiveSession, mailbox: LatestFrame) -> None:
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if message.get("bytes") is not None:
            mailbox.put(message["bytes"])
        elif message.get("text") is not None:
            try:
                changes = json.loads(message["text"])
                if not isinstance(changes, dict):
                    raise ValueError("send a JSON object of options")
                session.update(changes)
            except (StylenetError, ValueError) as error:
                await websocket.send_json({"error": " ".join(str(error).split())})


async def _process(
    websocket: WebSocket, session: LiveSession, mailbox: LatestFrame, state: ServerState
) -> None:
    while True:
        data = await mailbox.take()
        while not state.pool.try_admit():  # busy: wait, then take the newest frame
            await asyncio.sleep(BUSY_PAUSE_S)
        data = mailbox.take_newer(data)
        try:
            out = await state.pool.run(session.stylize, data, state.settings.max_pixels)
        except StylenetError as error:
            state.metrics.live_frame("error")
            await websocket.send_json({"error": " ".join(str(error).split())})
            continue
        finally:
            state.pool.release()
        state.metrics.live_frame("sent")
        await websocket.send_bytes(out)
