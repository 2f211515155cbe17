"""A fixed pool of inference threads behind a bounded queue.

At most ``workers`` jobs run and ``queue`` more wait; :meth:`WorkerPool.admit` refuses any
request beyond that *before* its body is read, so memory is bounded by
``(workers + queue) × (body limit + image limit)`` however many clients are waiting.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

from stylenet.serve.http.errors import busy

T = TypeVar("T")


class WorkerPool:
    """``workers`` inference threads and room for ``queue`` waiting jobs."""

    def __init__(self, workers: int, queue: int, retry_after: int = 1) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self.retry_after = retry_after
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stylize")
        self._lock = threading.Lock()
        self._admitted = 0
        self._running = 0

    @property
    def admitted(self) -> int:
        """Requests holding a place (running, waiting for a worker, or reading their body)."""
        return self._admitted

    @property
    def running(self) -> int:
        return self._running

    @property
    def queued(self) -> int:
        """Admitted requests not on a worker yet."""
        return max(0, self._admitted - self._running)

    def try_admit(self) -> bool:
        with self._lock:
            if self._admitted >= self.capacity:
                return False
            self._admitted += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._admitted -= 1

    @contextmanager
    def admit(self) -> Iterator[None]:
        """Hold a place for one request; 503 (with Retry-After) when there is none."""
        if not self.try_admit():
            raise busy(self.retry_after)
        try:
            yield
        finally:
            self.release()

    async def run(self, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``function`` on a worker thread (call inside :meth:`admit`)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._tracked, function, args, kwargs)

    def _tracked(self, function: Callable[..., T], args: tuple, kwargs: dict) -> T:
        with self._lock:
            self._running += 1
        try:
            return function(*args, **kwargs)
        finally:
            with self._lock:
                self._running -= 1

    def shutdown(self) -> None:
        """Finish the running and queued jobs, then stop the threads."""
        self._executor.shutdown(wait=True)
