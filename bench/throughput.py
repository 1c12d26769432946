"""Throughput ceiling: requests per second through the hook, the official SDK, HttpHook and httpx.

Every client sends the same request, ``POST /api/v2/invoices/{id}/close`` with an
empty form body, HTTP Basic auth and a fresh ``chargebee-idempotency-key``, each
to a distinct pending invoice, to one emulator process with no rate limit. Each
client runs sequentially (one thread) and concurrently (``--workers`` threads),
in alternating rounds so that drift on the machine hits every client alike.

Clients:

- ``hook``: ``ChargebeeHook.invoke("close", ...)``, the path every operator takes;
  concurrently, the threads share the hook's client (as bulk tasks do).
- ``httpx``: a bare pooled ``httpx.Client`` with a precomputed Authorization header
  that decodes the JSON answer: the floor any Python client can reach.
- ``sdk``: the official ``chargebee`` SDK v3, ``Invoice.close``.
- ``http_hook``: Airflow's ``HttpHook(method="POST").run(...)``, answer decoded.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

import psutil

from bench.common import API_KEY, EmulatorProcess, emit, invoice_ids

Send = Callable[[str], None]
IDEMPOTENCY_HEADER = "chargebee-idempotency-key"
SLOW = ("sdk",)
"""The SDK spends about 30 ms of CPU per request: it gets fewer requests, same rate measure."""


def _key() -> str:
    """A fresh key per request, so no client is answered from the idempotency store."""
    return f"bench-{uuid.uuid4().hex}"


def hook_sender(base_url: str) -> tuple[Send, Callable[[], None]]:
    """The provider as operators use it: a connection from the environment, one client."""
    from airflow_provider_cb.hooks.chargebee import ChargebeeHook

    connection = {
        "conn_type": "chargebee",
        "host": "acme",
        "password": API_KEY,
        "extra": {"base_url": base_url, "lift_rate_budget": True},
    }
    os.environ["AIRFLOW_CONN_CB_BENCH"] = json.dumps(connection)
    hook = ChargebeeHook("cb_bench")

    def send(invoice_id: str) -> None:
        response = hook.invoke("close", invoice_id, idempotency_key=_key())
        if response.status_code != 200 or "invoice" not in response.body:
            raise RuntimeError(f"hook: unexpected answer for {invoice_id}")

    return send, hook.close


def httpx_sender(base_url: str) -> tuple[Send, Callable[[], None]]:
    """The least work a Python client can do per request: the yardstick for the hook."""
    import httpx

    token = base64.b64encode(f"{API_KEY}:".encode()).decode()
    client = httpx.Client(
        base_url=base_url,
        headers={"Authorization": f"Basic {token}", "Accept": "application/json"},
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=32),
    )

    def send(invoice_id: str) -> None:
        response = client.post(
            f"/api/v2/invoices/{invoice_id}/close",
            content=b"",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                IDEMPOTENCY_HEADER: _key(),
            },
        )
        if response.status_code != 200 or "invoice" not in json.loads(response.content):
            raise RuntimeError(f"httpx: HTTP {response.status_code} for {invoice_id}")

    return send, client.close


def sdk_sender(base_url: str) -> tuple[Send, Callable[[], None]]:
    """The SDK builds ``{protocol}://{site}.{domain}/api/v2``; it has no base-URL option.

    Splitting ``127.0.0.1:PORT`` into site ``127`` and domain ``0.0.1:PORT`` reaches
    the emulator without patching. Its request function reads the class attribute
    ``Chargebee.verify_ca_certs`` (``update_protocol("http")`` only sets it on the
    instance) and forces https while it is true, so it is set to False here.
    """
    import chargebee

    netloc = urlsplit(base_url).netloc
    site, _, domain = netloc.partition(".")
    chargebee.Chargebee.verify_ca_certs = False
    cb = chargebee.Chargebee(api_key=API_KEY, site=site, chargebee_domain=domain, protocol="http")

    def send(invoice_id: str) -> None:
        result = cb.Invoice.close(invoice_id, headers={IDEMPOTENCY_HEADER: _key()})
        if result.invoice.id != invoice_id:
            raise RuntimeError(f"sdk: unexpected answer for {invoice_id}")

    return send, lambda: None


def http_hook_sender(base_url: str) -> tuple[Send, Callable[[], None]]:
    """What a DAG author gets without this provider; auth as a header from the extras."""
    from airflow.providers.http.hooks.http import HttpHook

    parts = urlsplit(base_url)
    token = base64.b64encode(f"{API_KEY}:".encode()).decode()
    connection = {
        "conn_type": "http",
        "host": parts.hostname,
        "port": parts.port,
        "schema": "http",
        "extra": {"Authorization": f"Basic {token}", "Accept": "application/json"},
    }
    os.environ["AIRFLOW_CONN_CB_HTTP"] = json.dumps(connection)
    hook = HttpHook(method="POST", http_conn_id="cb_http")

    def send(invoice_id: str) -> None:
        response = hook.run(
            f"/api/v2/invoices/{invoice_id}/close",
            data="",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                IDEMPOTENCY_HEADER: _key(),
            },
        )
        if "invoice" not in response.json():
            raise RuntimeError(f"http_hook: unexpected answer for {invoice_id}")

    return send, lambda: None


SENDERS: dict[str, Callable[[str], tuple[Send, Callable[[], None]]]] = {
    "hook": hook_sender,
    "httpx": httpx_sender,
    "sdk": sdk_sender,
    "http_hook": http_hook_sender,
}


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def timed(
    send: Send, ids: Sequence[str], workers: int, server: psutil.Process
) -> tuple[float, float, float]:
    """Wall, client CPU and server CPU seconds to send one request per id.

    CPU time tells where a request's cost lies when the wall time is capped by the
    other side: the emulator is one Python process, and can be the bottleneck.
    """
    client = psutil.Process()
    client_cpu, server_cpu = _cpu_seconds(client), _cpu_seconds(server)
    started = time.perf_counter()
    if workers == 1:
        for invoice_id in ids:
            send(invoice_id)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for _ in pool.map(send, ids):
                pass
    wall = time.perf_counter() - started
    return wall, _cpu_seconds(client) - client_cpu, _cpu_seconds(server) - server_cpu


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.throughput")
    parser.add_argument("--requests", type=int, default=3000, help="per client and mode")
    parser.add_argument("--sdk-requests", type=int, default=300, help="per mode, for the SDK")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=30)
    args = parser.parse_args(argv)

    counts = {name: args.sdk_requests if name in SLOW else args.requests for name in SENDERS}
    modes = {"seq": 1, "conc": args.workers}
    needed = sum(counts.values()) * len(modes) + args.warmup * len(SENDERS) * len(modes)
    ids = iter(invoice_ids(needed))
    totals: dict[str, list[float]] = {}
    with EmulatorProcess({"pending": needed}) as emulator:
        server_process = psutil.Process(emulator.pid)
        senders = {name: make(emulator.base_url) for name, make in SENDERS.items()}
        for mode, workers in modes.items():
            for send, _ in senders.values():
                timed(send, [next(ids) for _ in range(args.warmup)], workers, server_process)
            for _ in range(args.rounds):
                for name, (send, _) in senders.items():
                    batch = [next(ids) for _ in range(counts[name] // args.rounds)]
                    spent = timed(send, batch, workers, server_process)
                    total = totals.setdefault(f"{name}_{mode}", [0.0, 0.0, 0.0])
                    for index, value in enumerate(spent):
                        total[index] += value
        for _, close in senders.values():
            close()
        server = emulator.stop()

    sent = {key: counts[key.rsplit("_", 1)[0]] // args.rounds * args.rounds for key in totals}
    rps = {f"{key}_rps": round(sent[key] / totals[key][0], 1) for key in totals}
    figures: dict[str, Any] = dict(rps)
    for key, (_, client_cpu, server_cpu) in totals.items():
        figures[f"{key}_client_cpu_us"] = round(client_cpu / sent[key] * 1e6)
        figures[f"{key}_server_cpu_us"] = round(server_cpu / sent[key] * 1e6)
    for mode in modes:
        hook = rps[f"hook_{mode}_rps"]
        figures[f"hook_vs_sdk_{mode}_x"] = round(hook / rps[f"sdk_{mode}_rps"], 2)
        figures[f"hook_vs_http_hook_{mode}_x"] = round(hook / rps[f"http_hook_{mode}_rps"], 2)
        figures[f"hook_vs_httpx_{mode}_pct"] = round(100 * hook / rps[f"httpx_{mode}_rps"], 1)
    figures["duplicates"] = server["duplicates"]
    figures["non_200"] = server["requests"] - server["by_status"].get("200", 0)
    emit(
        "throughput",
        figures,
        request="POST /api/v2/invoices/{id}/close, empty form body, Basic auth, idempotency key",
        requests_per_mode=counts,
        workers=args.workers,
        server=server,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
