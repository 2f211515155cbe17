"""Prometheus metrics in the text exposition format (version 0.0.4), written by hand.

``stylenet_http_requests_total{route, code}``, ``stylenet_http_request_duration_seconds``
(a histogram per route), ``stylenet_http_in_flight``, ``stylenet_queue_depth``,
``stylenet_workers_busy`` and ``stylenet_live_frames_total{result}``.
"""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Callable

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Metrics:
    """Thread-safe counters; ``gauges`` are read at scrape time."""

    def __init__(self, gauges: dict[str, tuple[str, Callable[[], float]]] | None = None) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, int], int] = defaultdict(int)
        self.buckets: dict[str, list[int]] = defaultdict(lambda: [0] * (len(BUCKETS) + 1))
        self.sums: dict[str, float] = defaultdict(float)
        self.live_frames: dict[str, int] = defaultdict(int)
        self.in_flight = 0
        self.gauges = gauges or {}

    def started(self) -> None:
        with self._lock:
            self.in_flight += 1

    def finished(self, route: str, code: int, seconds: float) -> None:
        with self._lock:
            self.in_flight -= 1
            self.requests[(route, code)] += 1
            self.buckets[route][bisect.bisect_left(BUCKETS, seconds)] += 1
            self.sums[route] += seconds

    def live_frame(self, result: str, count: int = 1) -> None:
        with self._lock:
            self.live_frames[result] += count

    def render(self) -> str:
        """The exposition text."""
        with self._lock:
            lines = [
                "# HELP stylenet_http_requests_total HTTP requests by route and status code.",
                "# TYPE stylenet_http_requests_total counter",
            ]
            for (route, code), count in sorted(self.requests.items()):
                lines.append(
                    f'stylenet_http_requests_total{{route="{_label(route)}",code="{code}"}} {count}'
                )
            lines += [
                "# HELP stylenet_http_request_duration_seconds HTTP request latency by route.",
                "# TYPE stylenet_http_request_duration_seconds histogram",
            ]
            for route, counts in sorted(self.buckets.items()):
                label = _label(route)
                cumulative = 0
                for bound, count in zip((*BUCKETS, "+Inf"), counts, strict=True):
                    cumulative += count
                    lines.append(
                        f'stylenet_http_request_duration_seconds_bucket{{route="{label}",'
                        f'le="{bound}"}} {cumulative}'
                    )
                lines.append(
                    f'stylenet_http_request_duration_seconds_sum{{route="{label}"}} '
                    f"{self.sums[route]:.6f}"
                )
                lines.append(
                    f'stylenet_http_request_duration_seconds_count{{route="{label}"}} {cumulative}'
                )
            lines += [
                "# HELP stylenet_http_in_flight HTTP requests being handled.",
                "# TYPE stylenet_http_in_flight gauge",
                f"stylenet_http_in_flight {self.in_flight}",
                "# HELP stylenet_live_frames_total Live frames by result (sent, dropped, error).",
                "# TYPE stylenet_live_frames_total counter",
            ]
            for result, count in sorted(self.live_frames.items()):
                lines.append(f'stylenet_live_frames_total{{result="{result}"}} {count}')
        for name, (help_text, read) in sorted(self.gauges.items()):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {read():g}"]
        return "\n".join(lines) + "\n"


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
