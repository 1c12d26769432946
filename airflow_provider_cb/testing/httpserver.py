"""The emulator's HTTP plumbing: a threaded server that can drop its connections, and a handler.

Every request goes to :meth:`ChargebeeEmulator._serve`; this module only reads and
writes HTTP/1.1 with keep-alive, and aborts connections the way faults need.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import sys
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from airflow_provider_cb.testing.api import IDEMPOTENCY_HEADER, Request
from airflow_provider_cb.testing.wire import Answer

if TYPE_CHECKING:
    from airflow_provider_cb.testing.emulator import ChargebeeEmulator

_RESET = struct.pack("ii", 1, 0)
"""SO_LINGER on with a zero timeout: close() sends RST instead of FIN."""


class Server(ThreadingHTTPServer):
    """Threaded server that can close its keep-alive connections on stop."""

    daemon_threads = True
    block_on_close = False
    request_queue_size = 512
    emulator: ChargebeeEmulator

    def __init__(self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler]) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client going away mid-request is normal here; anything else is reported."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class Server6(Server):
    address_family = socket.AF_INET6


class Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 with keep-alive; every method goes to :meth:`ChargebeeEmulator._serve`."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Server

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        length = self.headers.get("Content-Length") or "0"
        body: bytes | None = None
        if length.isdigit() and "Transfer-Encoding" not in self.headers:
            body = self.rfile.read(int(length)) if length != "0" else b""
        else:
            self.close_connection = True
        headers = {
            name.lower(): value
            for name, value in self.headers.items()
            if name.lower().startswith("chargebee-")
        }
        request = Request(
            method=self.command,
            path=path,
            query=query,
            authorization=self.headers.get("Authorization"),
            idempotency_key=self.headers.get(IDEMPOTENCY_HEADER),
            body=body,
        )
        self.server.emulator._serve(self, request, headers)

    do_POST = do_PUT = do_PATCH = do_DELETE = do_GET

    def send(self, answer: Answer) -> None:
        """Status line, headers and body in one write; a client gone meanwhile closes it."""
        lines = [
            f"HTTP/1.1 {answer.status} {HTTPStatus(answer.status).phrase}",
            f"Content-Type: {answer.content_type}",
            f"Content-Length: {len(answer.body)}",
        ]
        lines.extend(f"{name}: {value}" for name, value in answer.headers)
        if self.close_connection:
            lines.append("Connection: close")
        try:
            self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + answer.body)
        except OSError:
            self.close_connection = True

    def reset(self) -> None:
        """Abort the connection with RST, as a dropped load balancer connection looks."""
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
        self.rfile.close()
        self.connection.close()

    def drop(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: at thousands of requests per second a line each would drown the output."""
