"""Memory: select and close 100,000 pending invoices in one process; peak RSS of that process.

The emulator (its own process, not counted) is seeded with ``--invoices`` pending
invoices. This process runs ``ListInvoicesOperator.execute`` (pages of 100, ids
only) and then ``CloseInvoiceOperator(invoice_ids=...).execute``, the code the
two tasks of a month-end DAG run. Peak RSS is the larger of the kernel's
``ru_maxrss`` and a 20 ms psutil sampler; the baseline is RSS after imports.
The emulator's CPU time while listing shows where the listing time goes.
"""

from __future__ import annotations

import argparse
import os
import resource
import threading
import time
from collections.abc import Sequence
from typing import Any, cast

import psutil

from bench.common import EmulatorProcess, emit, task_context

MB = 1024 * 1024


class PeakSampler:
    """Samples this process's RSS in a thread, to see peaks between checkpoints."""

    def __init__(self, interval: float = 0.02) -> None:
        self._process = psutil.Process()
        self._interval = interval
        self._stop = threading.Event()
        self.peak = self._process.memory_info().rss
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()


def rss() -> int:
    """This process's resident set size now, in bytes."""
    return int(psutil.Process().memory_info().rss)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.memory")
    parser.add_argument("--invoices", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)

    from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator

    with EmulatorProcess({"pending": args.invoices}, start_timeout=900) as emulator:
        os.environ["AIRFLOW_CONN_CHARGEBEE_DEFAULT"] = emulator.connection_json()
        select = ListInvoicesOperator(
            task_id="select", status="pending", period="all", max_results=args.invoices
        )
        server_process = psutil.Process(emulator.pid)
        baseline = rss()
        with PeakSampler() as sampler:
            server_cpu = sum(server_process.cpu_times()[:2])
            started = time.perf_counter()
            ids = cast(list[str], select.execute(task_context()))
            listed = time.perf_counter()
            list_server_cpu = sum(server_process.cpu_times()[:2]) - server_cpu
            after_list = rss()
            close = CloseInvoiceOperator(task_id="close", invoice_ids=ids, max_workers=args.workers)
            result: dict[str, Any] = close.execute(task_context())
            finished = time.perf_counter()
        server = emulator.stop()

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
    peak = max(maxrss, sampler.peak)
    figures = {
        "peak_rss_mb": round(peak / MB, 1),
        "baseline_rss_mb": round(baseline / MB, 1),
        "after_list_rss_mb": round(after_list / MB, 1),
        "growth_mb": round((peak - baseline) / MB, 1),
        "list_s": round(listed - started, 1),
        "list_server_cpu_s": round(list_server_cpu, 1),
        "close_s": round(finished - listed, 1),
        "selected": len(ids),
        "closed": server["applied"],
        "duplicates": server["duplicates"],
    }
    emit("memory", figures, invoices=args.invoices, counts=result["counts"], server=server)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
