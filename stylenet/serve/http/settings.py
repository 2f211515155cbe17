"""The server's settings: which models, how many workers, the request limits, the API key."""

from __future__ import annotations

from dataclasses import dataclass

from stylenet.errors import ConfigError

FORMATS = {"jpeg": "JPEG", "png": "PNG", "webp": "WEBP"}
MEDIA_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "webp": "image/webp"}


@dataclass(frozen=True)
class ServerSettings:
    """Everything :func:`~stylenet.serve.http.app.create_app` needs.

    ``models``: shipped names, ``.onnx``/``.ckpt`` paths or folders of ``.onnx`` files
    (empty: every shipped model). ``workers`` inference threads share a queue of ``queue``
    waiting requests; beyond it requests get 503 with ``Retry-After: retry_after``.
    ``max_body_bytes`` bounds a request body, ``max_pixels`` an image (read from its header
    before decoding, and the size it is stylized at); a body must arrive within
    ``body_timeout`` seconds (408 after: a slow client holds a queue place while it sends). ``api_key``: required on every route
    but the health checks and the page's static files when set.
    """

    models: tuple[str, ...] = ()
    workers: int = 1
    queue: int = 8
    max_body_bytes: int = 20_000_000
    max_pixels: int = 16_000_000
    body_timeout: float = 30.0
    retry_after: int = 1
    api_key: str | None = None
    providers: tuple[str, ...] | None = None
    intra_op_threads: int = 0
    quality: int = 90
    live_side: int = 640
    arbitrary: bool = True  # painting uploads: the shipped arbitrary-style network, if installed

    def __post_init__(self) -> None:
        checks = {
            "workers": (self.workers, 1),
            "queue": (self.queue, 0),
            "max_body_bytes": (self.max_body_bytes, 1),
            "max_pixels": (self.max_pixels, 32 * 32),
            "retry_after": (self.retry_after, 0),
            "intra_op_threads": (self.intra_op_threads, 0),
            "live_side": (self.live_side, 32),
        }
        for name, (value, low) in checks.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < low:
                raise ConfigError(f"{name} must be an integer >= {low}, got {value!r}")
        if isinstance(self.body_timeout, bool) or not (
            isinstance(self.body_timeout, (int, float)) and self.body_timeout > 0
        ):
            raise ConfigError(f"body_timeout must be seconds > 0, got {self.body_timeout!r}")
        if not 1 <= int(self.quality) <= 100:
            raise ConfigError(f"quality must be in [1, 100], got {self.quality}")
        if self.api_key is not None and not str(self.api_key).strip():
            raise ConfigError("api_key is empty; give a secret or leave it unset (null)")
