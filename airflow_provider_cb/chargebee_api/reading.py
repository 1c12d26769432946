"""Bounding one exchange: a deadline for the whole request and a cap on the answer's size.

httpx's ``timeout`` bounds each network operation, so a server sending one byte
just inside it can hold a request for ever, and it reads any answer whole into
memory, however large it inflates. Here every operation of a request gets only
the time left until one deadline, and answers are read in chunks up to a cap.

Only public API is used: on the sync path httpcore's documented network-backend
hook (:class:`DeadlineTransport` hands httpcore's pool a backend whose every read
and write is cut to the time left), on the async path ``asyncio.timeout`` around
the whole exchange; both check the deadline again at every chunk of the answer.
The versions relied on are declared in ``pyproject.toml``.
"""

from __future__ import annotations

import contextlib
import ssl
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any

import httpcore
import httpx

from airflow_provider_cb.chargebee_api.errors import ChargebeeTransportError

MAX_ANSWER_BYTES = 10 * 1024 * 1024
"""The largest answer read, after decompression: a full page of 100 invoices with line
items is far below it; a larger answer is not Chargebee's and fails retryably."""

_SMALLEST_WAIT = 0.001
_DROPPED_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class Deadline:
    """The moment by which a whole request, connect to last byte, must be done."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.ends_at = time.monotonic() + seconds

    def expired(self) -> bool:
        return time.monotonic() >= self.ends_at

    def bound(self, timeout: float | None) -> float:
        """``timeout`` for one network operation, cut to the time left."""
        left = max(self.ends_at - time.monotonic(), _SMALLEST_WAIT)
        return left if timeout is None else min(timeout, left)


_current: ContextVar[Deadline | None] = ContextVar("chargebee_request_deadline", default=None)


@contextlib.contextmanager
def request_deadline(seconds: float) -> Iterator[Deadline]:
    """Bound every network operation of this thread's request by one deadline."""
    deadline = Deadline(seconds)
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def _bounded(timeout: float | None) -> float | None:
    deadline = _current.get()
    return timeout if deadline is None else deadline.bound(timeout)


class _DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the current request's deadline."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.start_tls(ssl_context, server_hostname, _bounded(timeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    """Opens connections that honour the deadline of the request using them.

    httpcore takes a phase's timeout once (all the headers, all the body) and
    applies it to every read of that phase; bounding each read here by the time
    left is what stops a server that sends a byte just inside the timeout.
    """

    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_tcp(host, port, _bounded(timeout), local_address, socket_options)
        )

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        return _DeadlineStream(
            self._inner.connect_unix_socket(path, _bounded(timeout), socket_options)
        )

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


_HTTPCORE_TO_HTTPX: tuple[tuple[type[Exception], type[httpx.TransportError]], ...] = (
    (httpcore.ConnectTimeout, httpx.ConnectTimeout),
    (httpcore.ReadTimeout, httpx.ReadTimeout),
    (httpcore.WriteTimeout, httpx.WriteTimeout),
    (httpcore.PoolTimeout, httpx.PoolTimeout),
    (httpcore.ConnectError, httpx.ConnectError),
    (httpcore.ReadError, httpx.ReadError),
    (httpcore.WriteError, httpx.WriteError),
    (httpcore.RemoteProtocolError, httpx.RemoteProtocolError),
    (httpcore.LocalProtocolError, httpx.LocalProtocolError),
    (httpcore.UnsupportedProtocol, httpx.UnsupportedProtocol),
    (httpcore.TimeoutException, httpx.TimeoutException),
    (httpcore.NetworkError, httpx.NetworkError),
    (httpcore.ProtocolError, httpx.ProtocolError),
)
"""httpcore's exceptions as httpx's, most specific first (both are public hierarchies)."""


@contextlib.contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for core, ours in _HTTPCORE_TO_HTTPX:
            if isinstance(exc, core):
                raise ours(str(exc), request=request) from exc
        raise


class _Body(httpx.SyncByteStream):
    """httpcore's streamed body, its failures raised as httpx's."""

    def __init__(self, request: httpx.Request, stream: Iterable[bytes]) -> None:
        self._request = request
        self._stream = stream

    def __iter__(self) -> Iterator[bytes]:
        with _as_httpx_errors(self._request):
            yield from self._stream

    def close(self) -> None:
        close = getattr(self._stream, "close", None)
        if close is not None:
            close()


class DeadlineTransport(httpx.BaseTransport):
    """An httpx transport over httpcore's pool, whose connections honour :func:`request_deadline`.

    httpx's own transport offers no way to choose httpcore's network backend; httpcore's
    :class:`~httpcore.ConnectionPool` takes one as a documented argument, so this is
    httpx's ``HTTPTransport`` reduced to what the client uses (HTTP/1.1, no proxy), built
    from both libraries' public API only.
    """

    def __init__(self, *, verify: ssl.SSLContext, limits: httpx.Limits) -> None:
        self._pool = httpcore.ConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_DeadlineBackend(httpcore.SyncBackend()),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        assert isinstance(request.stream, httpx.SyncByteStream)
        url = request.url
        core_request = httpcore.Request(
            method=request.method,
            url=httpcore.URL(
                scheme=url.raw_scheme, host=url.raw_host, port=url.port, target=url.raw_path
            ),
            headers=request.headers.raw,
            content=request.stream,
            extensions=request.extensions,
        )
        with _as_httpx_errors(request):
            answer = self._pool.handle_request(core_request)
        assert isinstance(answer.stream, Iterable)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            stream=_Body(request, answer.stream),
            extensions=answer.extensions,
        )

    def close(self) -> None:
        self._pool.close()


def too_slow(method: str, path: str, seconds: float) -> ChargebeeTransportError:
    """The request's deadline passed before its whole answer came."""
    return ChargebeeTransportError(
        method, path, f"no complete answer within the timeout of {seconds:g}s"
    )


def _too_large(method: str, path: str) -> ChargebeeTransportError:
    return ChargebeeTransportError(
        method, path, f"answer larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MB; not read"
    )


class _Collector:
    """Chunks of one answer, checked against the deadline and the size cap as they come."""

    def __init__(
        self, method: str, path: str, streamed: httpx.Response, deadline: Deadline
    ) -> None:
        self.method = method
        self.path = path
        self.streamed = streamed
        self.deadline = deadline
        self.chunks: list[bytes] = []
        self.size = 0
        declared = streamed.headers.get("content-length", "")
        encoded = streamed.headers.get("content-encoding")
        if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES and not encoded:
            raise _too_large(method, path)

    def add(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > MAX_ANSWER_BYTES:
            raise _too_large(self.method, self.path)
        if self.deadline.expired():
            raise too_slow(self.method, self.path, self.deadline.seconds)
        self.chunks.append(chunk)

    def response(self) -> httpx.Response:
        """The answer as a plain response whose ``content`` is the decoded body."""
        headers = [
            (name, value)
            for name, value in self.streamed.headers.multi_items()
            if name.lower() not in _DROPPED_HEADERS
        ]
        return httpx.Response(
            self.streamed.status_code,
            headers=headers,
            content=b"".join(self.chunks),
            request=self.streamed.request,
        )


def read_capped(
    method: str, path: str, streamed: httpx.Response, deadline: Deadline
) -> httpx.Response:
    """Read a streamed answer within the deadline and the size cap, then close it."""
    try:
        collector = _Collector(method, path, streamed, deadline)
        for chunk in streamed.iter_bytes():
            collector.add(chunk)
        return collector.response()
    finally:
        streamed.close()


async def aread_capped(
    method: str, path: str, streamed: httpx.Response, deadline: Deadline
) -> httpx.Response:
    """:func:`read_capped` for the async transport."""
    try:
        collector = _Collector(method, path, streamed, deadline)
        async for chunk in streamed.aiter_bytes():
            collector.add(chunk)
        return collector.response()
    finally:
        await streamed.aclose()
