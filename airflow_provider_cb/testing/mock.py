"""The emulator answering httpx in process, through ``httpx.MockTransport``: no sockets.

Requests are read as the HTTP server reads them (a chunked body is refused the
same way) and answers come back with the same status, headers and body, so a
client test gives the same result here as over a loopback connection, only
faster and without ports.
"""

from __future__ import annotations

import httpx

from airflow_provider_cb.testing.api import IDEMPOTENCY_HEADER, Request
from airflow_provider_cb.testing.server import App
from airflow_provider_cb.testing.wire import Disconnect


def mock_transport(app: App) -> httpx.MockTransport:
    """A transport handing each httpx request to ``app``."""

    def handle(request: httpx.Request) -> httpx.Response:
        path, _, query = request.url.raw_path.decode("ascii").partition("?")
        chunked = "transfer-encoding" in request.headers
        outcome = app(
            Request(
                method=request.method,
                path=path,
                query=query,
                authorization=request.headers.get("authorization"),
                idempotency_key=request.headers.get(IDEMPOTENCY_HEADER),
                body=None if chunked else request.read(),
            ),
            {
                name: value
                for name, value in request.headers.items()
                if name.startswith("chargebee-")
            },
        )
        if outcome is Disconnect.RESET:
            raise httpx.ReadError("[Errno 104] Connection reset by peer", request=request)
        if outcome is Disconnect.DROP:
            raise httpx.RemoteProtocolError(
                "Server disconnected without sending a response.", request=request
            )
        return httpx.Response(
            outcome.status,
            headers=[
                ("content-type", outcome.content_type),
                ("content-length", str(len(outcome.body))),
                *outcome.headers,
            ],
            content=outcome.body,
            request=request,
        )

    return httpx.MockTransport(handle)
