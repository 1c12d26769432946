"""A loopback server that misbehaves on purpose: drips, inflates, floods, echoes.

It reads one request per connection and hands the socket to a behaviour. It
listens on 127.0.0.1 only, serves at most ``max_requests`` requests, and stops by
itself after ``lifetime`` seconds, so a client that never gives up cannot make a
test run for ever.
"""

from __future__ import annotations

import gzip
import itertools
import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

Behaviour = Callable[[socket.socket, "Request"], None]


@dataclass(frozen=True)
class Request:
    method: str
    target: str
    headers: Mapping[str, str]


def head(status: int = 200, **headers: str) -> bytes:
    """A status line and headers; every answer closes its connection."""
    lines = [f"HTTP/1.1 {status} X"] + [
        f"{name.replace('_', '-')}: {value}" for name, value in headers.items()
    ]
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def answer(status: int, body: bytes, content_type: str = "application/json") -> Behaviour:
    def behave(conn: socket.socket, request: Request) -> None:
        conn.sendall(head(status, Content_Type=content_type, Content_Length=str(len(body))) + body)

    return behave


def drip(*, in_headers: bool, interval: float, count: int) -> Behaviour:
    """One byte every ``interval`` seconds, ``count`` bytes, in the headers or the body."""

    def behave(conn: socket.socket, request: Request) -> None:
        if in_headers:
            conn.sendall(b"HTTP/1.1 200 OK\r\nX-Slow: ")
        else:
            conn.sendall(head(200, Content_Type="application/json", Content_Length=str(count)))
        for _ in range(count):
            time.sleep(interval)
            conn.sendall(b"a")

    return behave


def gzip_bomb(inflated_bytes: int) -> Behaviour:
    """A small gzip body that inflates to ``inflated_bytes`` zeros."""
    body = gzip.compress(b"\0" * inflated_bytes, compresslevel=9)

    def behave(conn: socket.socket, request: Request) -> None:
        conn.sendall(
            head(
                200,
                Content_Type="application/json",
                Content_Encoding="gzip",
                Content_Length=str(len(body)),
            )
            + body
        )

    return behave


def endless_chunks(total_bytes: int, chunk: int = 1024 * 1024) -> Behaviour:
    """A chunked answer of ``total_bytes`` with no Content-Length, sent until the client leaves."""
    piece = f"{chunk:x}\r\n".encode() + b" " * chunk + b"\r\n"

    def behave(conn: socket.socket, request: Request) -> None:
        conn.sendall(head(200, Content_Type="application/json", Transfer_Encoding="chunked"))
        for _ in range(total_bytes // chunk):
            conn.sendall(piece)
        conn.sendall(b"0\r\n\r\n")

    return behave


def endless_listing(per_page: int) -> Behaviour:
    """A listing that never ends: ``per_page`` new invoices a page, a fresh next_offset each time."""
    pages = itertools.count()

    def behave(conn: socket.socket, request: Request) -> None:
        page = next(pages)
        invoices = [
            {"invoice": {"id": f"inv_{page * per_page + i:07d}", "status": "pending"}}
            for i in range(per_page)
        ]
        body = json.dumps({"list": invoices, "next_offset": f"offset_{page + 1}"}).encode()
        answer(200, body)(conn, request)

    return behave


class HostileServer:
    """Serves ``behaviour`` on 127.0.0.1 to at most ``max_requests`` requests."""

    def __init__(
        self, behaviour: Behaviour, *, max_requests: int = 50, lifetime: float = 30.0
    ) -> None:
        self.behaviour = behaviour
        self.max_requests = max_requests
        self.requests: list[Request] = []
        self._ends_at = time.monotonic() + lifetime
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()

    def _serve(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._ends_at:
            if len(self.requests) >= self.max_requests:
                break
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()
        self._listener.close()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(max(self._ends_at - time.monotonic(), 0.1))
            try:
                request = _read_request(conn)
                if request is None:
                    return
                self.requests.append(request)
                self.behaviour(conn, request)
            except OSError:
                pass  # the client gave up, as it should


def _read_request(conn: socket.socket) -> Request | None:
    data = b""
    while b"\r\n\r\n" not in data:
        received = conn.recv(65536)
        if not received or len(data) > 65536:
            return None
        data += received
    head_text, _, body = data.partition(b"\r\n\r\n")
    lines = head_text.decode("latin-1").split("\r\n")
    method, target, _ = lines[0].split(" ", 2)
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length") or 0)
    while len(body) < length:
        received = conn.recv(65536)
        if not received:
            break
        body += received
    return Request(method, target, headers)
