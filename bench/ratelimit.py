"""Rate-limit efficiency: a bulk close of pending invoices against a rate-limited emulator.

The emulator refuses requests beyond ``--limit`` per fixed 60-second window with
429 and ``Retry-After``. ``CloseInvoiceOperator(invoice_ids=...)`` runs its
``execute`` (the task's code path: hook, shared client, rate budget, bulk
workers) with the connection's ``requests_per_minute`` set to ``--budget``
(default: the limit itself, what a user copies from their plan; 0 sends as
fast as the workers can and leaves the pacing to 429 and ``Retry-After``).

Effective rate = requests the emulator received (429s included) / elapsed time
of the task. Bursts are runs of consecutive 429s in the emulator's arrival order.
Exactly-once: the emulator applied one close per invoice and none twice.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from typing import Any

from bench.common import EmulatorProcess, emit, invoice_ids, task_context


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ratelimit")
    parser.add_argument("--invoices", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=12_000, help="emulator requests a minute")
    parser.add_argument(
        "--budget", type=float, default=None, help="connection's; default the limit, 0 for none"
    )
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    budget = args.limit if args.budget is None else args.budget

    from airflow_provider_cb.operators import CloseInvoiceOperator

    ids = invoice_ids(args.invoices)
    with EmulatorProcess({"pending": args.invoices}, requests_per_minute=args.limit) as emulator:
        extra = {"requests_per_minute": budget} if budget else {}
        os.environ["AIRFLOW_CONN_CHARGEBEE_DEFAULT"] = emulator.connection_json(**extra)
        operator = CloseInvoiceOperator(
            task_id="close_all", invoice_ids=ids, max_workers=args.workers
        )
        started_wall = time.time()
        started = time.perf_counter()
        result: dict[str, Any] = operator.execute(task_context())
        elapsed = time.perf_counter() - started
        server = emulator.stop()

    requests = server["requests"]
    rate = requests / elapsed * 60
    first_429 = server["first_429_at"]
    figures = {
        "elapsed_s": round(elapsed, 2),
        "effective_rate_per_min": round(rate),
        "pct_of_limit": round(100 * rate / args.limit, 1),
        "closed_per_min": round(server["applied"] / elapsed * 60),
        "requests": requests,
        "http_429": server["rate_limited"],
        "bursts_429": server["bursts"],
        "closed": server["applied"],
        "duplicates": server["duplicates"],
        "done": result["counts"].get("done", 0),
        "retries": result["retries"],
    }
    emit(
        "ratelimit",
        figures,
        invoices=args.invoices,
        limit=args.limit,
        budget=budget,
        workers=args.workers,
        started_second_of_window=round(started_wall % 60, 1),
        first_429_after_s=round(first_429 - started_wall, 1) if first_429 else None,
        counts=result["counts"],
        server=server,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
