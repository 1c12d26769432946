"""Bounding one exchange: a deadline for the whole request and a cap on the answer's size.

httpx's ``timeout`` bounds each network operation, so a server sending one byte
just inside it can hold a request for ever, and it reads any answer whole into
memory, however large it inflates. Here every operation of a request gets only
the time left until one deadline, and answers are read in chunks up to a cap.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator

import httpx

from airflow_provider_cb.client.errors import ChargebeeTransportError

MAX_ANSWER_BYTES = 10 * 1024 * 1024
"""The largest answer read, after decompression: a full page of 100 invoices with line
items is far below it; a larger answer is not Chargebee's and fails retryably."""

_SMALLEST_WAIT = 0.001
_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class RequestDeadline(dict[str, float | None]):
    """httpx per-request timeouts that shrink to the time left until one deadline.

    httpcore looks up the connect, write, read and pool timeout again for every
    network operation, so each of them, and all of them together, end by the
    deadline: connect, send and receive are bounded by ``seconds`` in total.
    """

    def __init__(self, seconds: float) -> None:
        super().__init__(connect=seconds, read=seconds, write=seconds, pool=seconds)
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds

    def left(self) -> float:
        return max(self.ends_at - time.monotonic(), _SMALLEST_WAIT)

    def expired(self) -> bool:
        return time.monotonic() >= self.ends_at

    def get(self, key: str, default: object = None) -> float | None:
        return self.left() if key in self else None

    def __getitem__(self, key: str) -> float | None:
        return self.left()


def _too_slow(method: str, path: str, deadline: RequestDeadline) -> ChargebeeTransportError:
    return ChargebeeTransportError(
        method, path, f"no complete answer within the timeout of {deadline.seconds:g}s"
    )


def _too_large(method: str, path: str) -> ChargebeeTransportError:
    return ChargebeeTransportError(
        method, path, f"answer larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MB; not read"
    )


class _Collector:
    """Chunks of one answer, checked against the deadline and the size cap as they come."""

    def __init__(self, method: str, path: str, deadline: RequestDeadline) -> None:
        self.method = method
        self.path = path
        self.deadline = deadline
        self.chunks: list[bytes] = []
        self.size = 0

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_ANSWER_BYTES:
            raise _too_large(self.method, self.path)
        if self.deadline.expired():
            raise _too_slow(self.method, self.path, self.deadline)
        self.chunks.append(chunk)

    def response(self, streamed: httpx.Response) -> httpx.Response:
        """The answer as a plain response whose ``content`` is the decoded body."""
        headers = [
            (name, value)
            for name, value in streamed.headers.multi_items()
            if name.lower() not in _DROPPED_HEADERS
        ]
        return httpx.Response(
            streamed.status_code,
            headers=headers,
            content=b"".join(self.chunks),
            request=streamed.request,
        )


def _check_declared_size(method: str, path: str, streamed: httpx.Response) -> None:
    declared = streamed.headers.get("content-length", "")
    if (
        declared.isdigit()
        and int(declared) > MAX_ANSWER_BYTES
        and not streamed.headers.get("content-encoding")
    ):
        raise _too_large(method, path)


def read_capped(
    method: str, path: str, streamed: httpx.Response, deadline: RequestDeadline
) -> httpx.Response:
    """Read a streamed answer within the deadline and the size cap, then close it."""
    try:
        _check_declared_size(method, path, streamed)
        collector = _Collector(method, path, deadline)
        chunks: Iterator[bytes] = streamed.iter_bytes(chunk_size=64 * 1024)
        for chunk in chunks:
            collector.add(chunk)
        return collector.response(streamed)
    finally:
        streamed.close()


async def aread_capped(
    method: str, path: str, streamed: httpx.Response, deadline: RequestDeadline
) -> httpx.Response:
    """:func:`read_capped` for the async client of the trigger."""
    try:
        _check_declared_size(method, path, streamed)
        collector = _Collector(method, path, deadline)
        chunks: AsyncIterator[bytes] = streamed.aiter_bytes(chunk_size=64 * 1024)
        async for chunk in chunks:
            collector.add(chunk)
        return collector.response(streamed)
    finally:
        await streamed.aclose()
