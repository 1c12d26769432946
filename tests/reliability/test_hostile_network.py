"""A hostile network: servers that drip, inflate, flood, loop and echo the key.

Every server here is a :class:`HostileServer` on 127.0.0.1, bounded in requests and
lifetime. Each test reproduces one way a proxy, gateway or broken site could hang
a worker, exhaust its memory, spin a listing for ever or leak the API key, and
checks the client's answer: a clear error, in time, with nothing secret in it.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from airflow.sdk._shared.secrets_masker import redact as airflow_redact

from airflow_provider_cb.chargebee_api.errors import ChargebeeError, ChargebeeTransportError
from airflow_provider_cb.chargebee_api.reading import MAX_ANSWER_BYTES
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.hooks.chargebee import ChargebeeHook, mask_api_key
from airflow_provider_cb.invoicing.action_table import CLOSE
from airflow_provider_cb.invoicing.clients import AsyncChargebeeClient, ChargebeeClient
from airflow_provider_cb.invoicing.outcomes import ActionRecord, perform_action
from tests.reliability.hostile import (
    HostileServer,
    Request,
    answer,
    drip,
    endless_chunks,
    gzip_bomb,
)
from tests.reliability.support import Figures

KEY = "live_Eech0G4tewayK3y_7a6b5c4d3e2f"
TIMEOUT = 1.0
INVOICE = {"id": "inv_1", "status": "pending"}


def _settings(server: HostileServer, **settings: Any) -> ClientSettings:
    values: dict[str, Any] = {
        "api_key": KEY,
        "base_url": server.base_url,
        "max_retries": 0,
        "requests_per_minute": 100_000,  # a test server: no pace unless the test sets one
    }
    return ClientSettings(**{**values, "timeout": TIMEOUT, **settings})


def _client(server: HostileServer, **settings: Any) -> ChargebeeClient:
    return ChargebeeClient(_settings(server, **settings))


def _async_get(server: HostileServer) -> dict[str, Any]:
    """The trigger's path: the hook's async client."""

    async def get() -> dict[str, Any]:
        client = AsyncChargebeeClient(_settings(server))
        try:
            return await client.get_invoice("inv_1")
        finally:
            await client.aclose()

    return asyncio.run(get())


def _get_sync(server: HostileServer) -> dict[str, Any]:
    with _client(server) as client:
        return client.get_invoice("inv_1")


PATHS: dict[str, Callable[[HostileServer], dict[str, Any]]] = {
    "sync": _get_sync,
    "trigger": _async_get,
}


# Hangs: the timeout bounds the whole request.


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("in_headers", [False, True], ids=["body", "headers"])
def test_a_dripping_server_cannot_hold_a_request_past_the_timeout(
    path: str, in_headers: bool, figures: Figures
) -> None:
    # 50 bytes, one every 0.2 s: each read is well inside the timeout, the whole takes 10 s.
    with HostileServer(drip(in_headers=in_headers, interval=0.2, count=50)) as server:
        started = time.monotonic()
        with pytest.raises(ChargebeeTransportError) as caught:
            PATHS[path](server)
        elapsed = time.monotonic() - started

    # The margin covers a busy machine (the suite runs on three workers); without the
    # deadline the server would hold the request for 10 s.
    assert elapsed < TIMEOUT + 2.0, f"held for {elapsed:.2f}s with timeout={TIMEOUT}s"
    assert caught.value.retryable
    figures.record(
        f"drip_{path}_{'headers' if in_headers else 'body'}",
        timeout_s=TIMEOUT,
        longest_request_s=round(elapsed, 2),
        server_would_take_s=10.0,
    )


# Resource exhaustion: answers are read in chunks up to a cap.


@pytest.mark.parametrize("path", PATHS)
def test_a_gzip_bomb_is_refused_at_the_cap(path: str) -> None:
    server = HostileServer(gzip_bomb(64 * 1024 * 1024))
    with server, pytest.raises(ChargebeeTransportError) as caught:
        PATHS[path](server)

    assert f"larger than {MAX_ANSWER_BYTES // (1024 * 1024)} MB" in str(caught.value)
    assert caught.value.retryable


@pytest.mark.parametrize("path", PATHS)
def test_a_declared_huge_answer_is_not_read(path: str) -> None:
    def huge(conn: Any, request: Request) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 314572800\r\n\r\n" + b" " * 1024)

    server = HostileServer(huge)
    with server, pytest.raises(ChargebeeTransportError, match="larger than"):
        PATHS[path](server)


RSS_PROBE = """
import resource, sys
from airflow_provider_cb.invoicing.clients import ChargebeeClient
from airflow_provider_cb.chargebee_api.errors import ChargebeeError
from airflow_provider_cb.chargebee_api.settings import ClientSettings

settings = ClientSettings(
    api_key="test_key_rss", base_url=sys.argv[1], max_retries=0, timeout=60, lift_rate_budget=True
)
with ChargebeeClient(settings) as client:
    client.list_invoices_page(limit=1)  # warm up: imports, TLS context, pool
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        client.get_invoice("inv_1")
        outcome = "read"
    except ChargebeeError as error:
        outcome = str(error)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{(after - before) // 1024} {after // 1024} {outcome}")
"""


def test_a_300_mb_answer_does_not_raise_peak_memory(figures: Figures, tmp_path: Path) -> None:
    page = json.dumps({"list": [], "next_offset": None}).encode()

    def behave(conn: Any, request: Request) -> None:
        if request.target.startswith("/api/v2/invoices?"):
            answer(200, page)(conn, request)
        else:
            endless_chunks(300 * 1024 * 1024)(conn, request)

    with HostileServer(behave, max_requests=4) as server:
        probe = tmp_path / "probe.py"
        probe.write_text(textwrap.dedent(RSS_PROBE))
        done = subprocess.run(
            [sys.executable, str(probe), server.base_url],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
        )
    assert done.returncode == 0, done.stderr[-2000:]
    growth_mb, peak_mb, outcome = done.stdout.strip().splitlines()[-1].split(" ", 2)
    assert "larger than" in outcome, outcome
    assert int(growth_mb) < 64, f"peak memory grew by {growth_mb} MB reading a 300 MB answer"
    figures.record(
        "stream_300mb", peak_rss_growth_mb=int(growth_mb), peak_rss_mb=int(peak_mb), cap_mb=10
    )


# Listing: a server that keeps offering a next page.


def _listing_server(page: Callable[[int], dict[str, Any]]) -> HostileServer:
    def behave(conn: Any, request: Request) -> None:
        answer(200, json.dumps(page(len(server.requests))).encode())(conn, request)

    server = HostileServer(behave, max_requests=200)
    return server


LOOPS: dict[str, Callable[[int], dict[str, Any]]] = {
    "empty_page_with_next_offset": lambda n: {"list": [], "next_offset": f"off_{n}"},
    "repeated_offset": lambda n: {"list": [{"invoice": INVOICE}], "next_offset": "same"},
}


@pytest.mark.parametrize("loop", LOOPS)
def test_a_looping_listing_stops_with_a_clear_error(loop: str, figures: Figures) -> None:
    with _listing_server(LOOPS[loop]) as server, _client(server) as client:
        with pytest.raises(ChargebeeTransportError, match="listing stopped"):
            list(client.iter_invoices())
        sent = len(server.requests)

    assert sent <= 2
    figures.record(f"looping_listing_{loop}", requests_sent=sent)


def test_a_listing_stops_at_its_page_limit() -> None:
    def fresh_offsets(n: int) -> dict[str, Any]:
        return {"list": [{"invoice": {**INVOICE, "id": f"inv_{n}"}}], "next_offset": f"o{n}"}

    with _listing_server(fresh_offsets) as server, _client(server) as client:
        with pytest.raises(ChargebeeTransportError, match="max_pages=3"):
            list(client.iter_invoices(max_pages=3))
        assert len(server.requests) == 3


def test_listing_requests_draw_from_the_rate_budget() -> None:
    server = _listing_server(LOOPS["repeated_offset"])
    with server, _client(server, requests_per_minute=60) as client:
        started = time.monotonic()
        with pytest.raises(ChargebeeTransportError):
            list(client.iter_invoices())
        elapsed = time.monotonic() - started
    # Two pages at one request a second: the second waits for the budget.
    assert elapsed >= 0.9


# Leaks: a gateway echoing the Authorization header in whatever form.


def _token(headers: dict[str, str] | Any) -> str:
    return str(headers["authorization"]).split(" ", 1)[1]


def _key_of(token: str) -> str:
    return base64.b64decode(token).decode().rstrip(":")


ECHOES: dict[str, Callable[[str], str]] = {
    "header_raw": lambda t: f"Basic {t}",
    "header_url_encoded_plus": lambda t: quote_plus(f"Basic {t}"),
    "header_url_encoded_lower_hex": lambda t: re.sub(
        "%[0-9A-F]{2}", lambda m: m.group().lower(), quote(f"Basic {t}", safe="")
    ),
    "token_unpadded": lambda t: t.rstrip("="),
    "token_line_wrapped": lambda t: "\r\n".join(t[i : i + 8] for i in range(0, len(t), 8)),
    "token_split_by_spaces": lambda t: " ".join(t[i : i + 5] for i in range(0, len(t), 5)),
    "token_url_safe": lambda t: t.replace("+", "-").replace("/", "_"),
    "token_escaped_newlines": lambda t: "\\n".join(t[i : i + 10] for i in range(0, len(t), 10)),
    "key_raw": _key_of,
    "key_split_by_space": lambda t: _key_of(t)[:9] + " " + _key_of(t)[9:],
    "key_url_encoded": lambda t: quote(_key_of(t), safe=""),
    "key_base64_without_colon": lambda t: base64.b64encode(_key_of(t).encode()).decode(),
    "key_base64_unpadded_without_colon": lambda t: (
        base64.b64encode(_key_of(t).encode()).decode().rstrip("=")
    ),
    "key_base64_url_safe": lambda t: base64.urlsafe_b64encode(_key_of(t).encode()).decode(),
    "key_base64_inside_longer_data": lambda t: base64.b64encode(
        f"user={_key_of(t)}".encode()
    ).decode(),
}

_NEEDLES = [
    KEY,
    KEY[5:21],
    base64.b64encode(f"{KEY}:".encode()).decode()[:20],
    # From character 8 on, these are the key's own bits, whatever precedes the value.
    base64.b64encode(f"user={KEY}".encode()).decode()[8:28],
]


def _leaks(text: str) -> list[str]:
    """Parts of the key, raw or as its token, still in ``text`` once spacing is removed."""
    squeezed = "".join(text.split()).replace("\\n", "").replace("%0D%0A", "")
    squeezed = squeezed.replace("%2B", "+").replace("%2F", "/").replace("%3D", "=")
    return [needle for needle in _NEEDLES if needle in text or needle in squeezed]


@pytest.mark.parametrize("as_json", [False, True], ids=["html_page", "json_message"])
@pytest.mark.parametrize("echo", ECHOES)
def test_a_gateway_echoing_the_key_in_any_form_leaks_nothing(echo: str, as_json: bool) -> None:
    def behave(conn: Any, request: Request) -> None:
        echoed = ECHOES[echo](_token(request.headers))
        if as_json:
            body = json.dumps({"message": f"denied for {echoed}", "api_error_code": echoed})
            answer(401, body.encode())(conn, request)
        else:
            page = f"<html><pre>Authorization: {echoed}</pre></html>"
            answer(502, page.encode(), "text/html")(conn, request)

    with HostileServer(behave) as server, _client(server) as client:
        record = perform_action(client, CLOSE, "inv_1", fields={}, idempotency_key="k-1")

    assert record.outcome == "failed"
    text = json.dumps(record.as_dict())
    assert "[redacted]" in text
    assert _leaks(text) == [], text


def test_every_echo_variant_is_redacted(figures: Figures) -> None:
    """The figure for docs/reliability.md: how many echo forms reach a record."""
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    leaked = [name for name, echo in ECHOES.items() if _leaks(_redacted_echo(echo(token)))]
    figures.record("echo_variants", tried=len(ECHOES), leaked=len(leaked), names=leaked)
    assert leaked == []


def _redacted_echo(echoed: str) -> str:
    from airflow_provider_cb.chargebee_api.redaction import redact

    return redact(f"Authorization: {echoed}", [KEY])


@pytest.mark.parametrize("echo", ["header_url_encoded_plus", "token_unpadded", "key_url_safe"])
def test_task_logs_mask_the_key_in_its_derived_forms(echo: str) -> None:
    token = base64.b64encode(f"{KEY}:".encode()).decode()
    form = ECHOES.get(echo, lambda t: base64.urlsafe_b64encode(KEY.encode()).decode())(token)
    mask_api_key(KEY)

    masked = str(airflow_redact(f"gateway said: {form}"))

    assert "***" in masked
    assert _leaks(masked) == [], masked


# Closing the hook while another thread is sending.


def test_closing_the_hook_during_an_action_ends_in_the_record(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def slow(conn: Any, request: Request) -> None:
        time.sleep(0.3)
        answer(200, json.dumps({"invoice": INVOICE}).encode())(conn, request)

    with HostileServer(slow) as server:
        connection = {"conn_type": "chargebee", "password": KEY}
        connection["extra"] = {
            "base_url": server.base_url,
            "max_retries": 0,
            "lift_rate_budget": True,
        }  # type: ignore[assignment]
        monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(connection))
        hook = ChargebeeHook()
        client = hook.get_conn()
        records: dict[str, ActionRecord] = {}
        errors: list[BaseException] = []

        def act(index: int) -> None:
            try:
                record = perform_action(
                    client, CLOSE, f"inv_{index}", fields={}, idempotency_key=f"k-{index}"
                )
                records[record.invoice_id] = record
            except BaseException as error:  # what escapes the record is the finding
                errors.append(error)

        workers = [threading.Thread(target=act, args=(i,)) for i in range(4)]
        workers[0].start()
        time.sleep(0.1)
        hook.close()
        for worker in workers[1:]:
            worker.start()
        for worker in workers:
            worker.join(timeout=10)

    assert errors == []
    assert sorted(records) == [f"inv_{i}" for i in range(4)]
    # The action in flight when close() came either finished or failed as a transport error.
    in_flight = records["inv_0"]
    assert in_flight.outcome == "done" or in_flight.api_error_code == "transport_error"
    for invoice_id in ("inv_1", "inv_2", "inv_3"):
        record = records[invoice_id]
        assert record.outcome == "failed"
        assert record.api_error_code == "transport_error"
        assert "client closed" in (record.message or "")
        assert record.retryable is False


def test_a_closed_client_fails_without_retries() -> None:
    with HostileServer(answer(200, b"{}")) as server:
        client = _client(server, max_retries=3)
        client.close()
        started = time.monotonic()
        with pytest.raises(ChargebeeError) as caught:
            client.get_invoice("inv_1")
    assert isinstance(caught.value, ChargebeeTransportError)
    assert "closed" in str(caught.value)
    assert caught.value.attempts == 1
    assert time.monotonic() - started < 1.5  # three retries would back off 1.75 s at least
    assert server.requests == []
