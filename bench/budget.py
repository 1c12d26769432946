"""The rate budget at the site's limit: three ways of counting, set too high, two processes.

Each scenario starts a fresh emulator process limited to ``--limit`` requests a
minute, counted as a fixed window, a sliding window or a token bucket, and runs
``CloseInvoiceOperator(invoice_ids=...).execute`` (the task's code path) in one or
two worker processes for about ``--seconds``:

- ``fixed``, ``sliding``, ``token_bucket``: one process, budget == limit;
- ``too_high``: one process, budget 20% above the limit, sliding window, 1.4 times
  as long;
- ``shared``: two processes, each with budget == limit and one ``rate_limit_store``
  (a real ``redis-server`` on loopback), sliding window;
- ``unshared``: the same two processes without the store.

Use = closes the emulator accepted (429s excluded) per minute between its first
and last request, as a share of the limit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from typing import Any

from bench.common import REPO, EmulatorProcess, emit, invoice_ids, task_context

WORKERS = 8


def work(connection: str, ids: list[str]) -> None:
    """One worker process: the task's execute over ``ids``, its summary printed as JSON."""
    os.environ["AIRFLOW_CONN_CHARGEBEE_DEFAULT"] = connection
    from airflow_provider_cb.operators import CloseInvoiceOperator

    operator = CloseInvoiceOperator(
        task_id="close", invoice_ids=ids, max_workers=WORKERS, failure_policy="record"
    )
    result = operator.execute(task_context())
    print(json.dumps({"counts": result["counts"], "retries": result["retries"]}))


def scenario(
    window: str, limit: int, budget: int, seconds: float, processes: int, store: str | None
) -> dict[str, Any]:
    """Run one scenario and return the emulator's counters with the use of the limit."""
    total = int(limit * seconds / 60)
    ids = invoice_ids(total)
    share = -(-total // processes)
    extra: dict[str, Any] = {"requests_per_minute": budget}
    if store is not None:
        extra["rate_limit_store"] = store
    with EmulatorProcess(
        {"pending": total}, requests_per_minute=limit, rate_limit_window=window
    ) as emulator:
        connection = emulator.connection_json(**extra)
        workers = [
            subprocess.Popen(
                [sys.executable, "-m", "bench.budget", "--work", connection, *chunk],
                cwd=REPO,
                stdout=subprocess.PIPE,
                text=True,
            )
            for chunk in (ids[n : n + share] for n in range(0, total, share))
        ]
        summaries = [json.loads(worker.communicate()[0].splitlines()[-1]) for worker in workers]
        server = emulator.stop()
    accepted = server["requests"] - server["rate_limited"]
    span = server["last_at"] - server["first_at"]
    return {
        "pct_of_limit": round(100 * (accepted - 1) / span * 60 / limit, 1),
        "http_429": server["rate_limited"],
        "http_429_per_min": round(server["rate_limited"] / span * 60, 1),
        "elapsed_s": round(span, 1),
        "closed": server["applied"],
        "duplicates": server["duplicates"],
        "failed": sum(summary["counts"].get("failed", 0) for summary in summaries),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.budget")
    parser.add_argument("--limit", type=int, default=1200, help="emulator requests a minute")
    parser.add_argument("--seconds", type=float, default=65, help="length of each scenario")
    parser.add_argument("--work", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.work:
        work(args.work[0], args.work[1:])
        return 0
    from tests.redis_server import RedisServer

    limit, seconds = args.limit, args.seconds
    runs: dict[str, dict[str, Any]] = {}
    for window in ("fixed", "sliding", "token_bucket"):
        runs[window] = scenario(window, limit, limit, seconds, 1, None)
    # Longer: at 120% a sliding window first refuses after some 50 seconds.
    runs["too_high"] = scenario("sliding", limit, int(limit * 1.2), seconds * 1.4, 1, None)
    with RedisServer(password="bench-store") as redis_server:
        runs["shared"] = scenario("sliding", limit, limit, seconds, 2, redis_server.url)
    runs["unshared"] = scenario("sliding", limit, limit, seconds, 2, None)

    figures: dict[str, Any] = {}
    for name, run in runs.items():
        figures[f"{name}_pct_of_limit"] = run["pct_of_limit"]
        figures[f"{name}_429"] = run["http_429"]
    figures["too_high_429_per_min"] = runs["too_high"]["http_429_per_min"]
    figures["unshared_failed"] = runs["unshared"]["failed"]
    figures["duplicates"] = sum(run["duplicates"] for run in runs.values())
    emit("budget", figures, limit=limit, seconds=seconds, workers=WORKERS, runs=runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
