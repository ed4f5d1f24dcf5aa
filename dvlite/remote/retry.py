"""The one retry wrapper around every remote: a batch of operations run in threads or as
coroutines, each one's transient errors (``errors.is_transient``) tried again with backoff.

How long a remote that never answers can hold a command: each request waits at most
``timeout`` seconds for an answer (``remote.NAME.timeout``, default ``TIMEOUT``), and a failed
operation is tried again at most ``RETRIES`` times, none of them starting later than
``DEADLINE`` seconds after its first attempt began; so one operation gives up within
``DEADLINE + timeout`` seconds (docs/remotes.md has the arithmetic)."""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from dvlite.errors import CorruptObjectError, RemoteError
from dvlite.remote.errors import is_transient

RETRIES = 5
BACKOFF = 0.1  # seconds before the first retry; doubled each time, with jitter
TIMEOUT = 15.0  # seconds a request waits to connect, and then for each part of the answer
DEADLINE = 45.0  # seconds after an operation's first attempt began when no retry starts any more


def retry_delay(attempt: int, started: float) -> float | None:
    """How long to wait before trying again an operation whose attempt number ``attempt``
    (from 0) failed with a transient error, first tried at ``started`` (``time.monotonic()``);
    None when it is given up: the retries are used up, or the retry would start past DEADLINE."""
    delay = BACKOFF * (2**attempt) * (0.5 + random.random())
    if attempt >= RETRIES or time.monotonic() + delay - started > DEADLINE:
        return None
    return delay


class Retry:
    """One batch: ``op`` on every item, the results in order. An item's FileNotFoundError or
    CorruptObjectError is its result; any other error that is not retried, or outlasts the
    retries, is the batch's ``failure`` (``translate``d): the other items stop, and it is raised."""

    def __init__(self, translate: Callable[..., RemoteError], jobs: int) -> None:
        self.translate = translate
        self.jobs = jobs
        self.failure: RemoteError | None = None

    def wait(self, exc: Exception, attempt: int, started: float) -> float:
        """Seconds to wait before the next attempt after ``exc``; 0 once the batch has failed."""
        transient = is_transient(exc)
        delay = retry_delay(attempt, started) if transient else None
        if delay is None and self.failure is None:
            self.failure = self.translate(exc, attempts=attempt + 1 if transient else 1)
        return 0.0 if delay is None or self.failure else delay

    def _results(self, results: list[Any]) -> list[Any]:
        if self.failure is not None:
            raise self.failure
        return results

    def threads(self, op: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        def run(item: Any) -> Any:
            attempt, started = 0, time.monotonic()
            while self.failure is None:
                try:
                    return op(item)
                except (FileNotFoundError, CorruptObjectError) as exc:
                    return exc
                except Exception as exc:
                    time.sleep(self.wait(exc, attempt, started))
                attempt += 1
            return None

        if len(items) == 1 or self.jobs == 1:
            return self._results([run(item) for item in items])
        with ThreadPoolExecutor(min(self.jobs, len(items))) as pool:
            return self._results(list(pool.map(run, items)))

    async def gather(self, op: Callable[[Any], Awaitable[Any]], items: Sequence[Any]) -> list[Any]:
        import asyncio  # only async remotes need it

        gate = asyncio.Semaphore(self.jobs)

        async def run(item: Any) -> Any:
            async with gate:
                attempt, started = 0, time.monotonic()
                while self.failure is None:
                    try:
                        return await op(item)
                    except (FileNotFoundError, CorruptObjectError) as exc:
                        return exc
                    except Exception as exc:
                        await asyncio.sleep(self.wait(exc, attempt, started))
                    attempt += 1
            return None

        return self._results(await asyncio.gather(*(run(item) for item in items)))
