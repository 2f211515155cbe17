"""The worker pool: a fixed number of places, refused (503) beyond them, released always."""

from __future__ import annotations

import asyncio
import threading

import pytest

from stylenet.serve.http.errors import HTTPProblem
from stylenet.serve.http.pool import WorkerPool


def test_admission_is_bounded_and_released():
    pool = WorkerPool(workers=1, queue=2, retry_after=3)
    with pool.admit(), pool.admit(), pool.admit():
        assert (pool.admitted, pool.queued) == (3, 3)
        with pytest.raises(HTTPProblem) as refused, pool.admit():
            pass
        assert refused.value.status == 503 and refused.value.headers == {"Retry-After": "3"}
    assert pool.admitted == 0
    with pytest.raises(ValueError), pool.admit():
        raise ValueError("the request failed")
    assert pool.admitted == 0
    pool.shutdown()


def test_jobs_run_on_the_worker_threads_and_count_as_running():
    pool = WorkerPool(workers=2, queue=0)
    seen: list[tuple[str, int]] = []

    def job(value: int) -> int:
        seen.append((threading.current_thread().name, pool.running))
        return value * 2

    async def main() -> list[int]:
        return await asyncio.gather(*(pool.run(job, v) for v in range(4)))

    assert asyncio.run(main()) == [0, 2, 4, 6]
    assert all(name.startswith("stylize") and 1 <= running <= 2 for name, running in seen)
    assert pool.running == 0
    pool.shutdown()
