"""HTTP errors: a status code and one line saying what to fix (sent as ``{"error": ...}``)."""

from __future__ import annotations

from stylenet.errors import StylenetError


class HTTPProblem(StylenetError):
    """A request the server refuses; ``status`` is the HTTP code, ``headers`` extra headers."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.headers = headers or {}


def bad_request(message: str) -> HTTPProblem:
    return HTTPProblem(400, message)


def too_large(message: str) -> HTTPProblem:
    return HTTPProblem(413, message)


def timed_out(message: str) -> HTTPProblem:
    return HTTPProblem(408, message, {"Connection": "close"})


def not_found(message: str) -> HTTPProblem:
    return HTTPProblem(404, message)


def busy(retry_after: int) -> HTTPProblem:
    return HTTPProblem(
        503,
        "the server is busy (all workers and the queue are full); retry shortly",
        {"Retry-After": str(retry_after)},
    )
