"""The month-end page with 1,000 runs in the ledger: how long its API takes to answer.

A ledger of ``--runs`` month-end runs (10 periods, two chunks per run, 20 invoices
per chunk) is written as tasks write it. The page's web app then answers through
FastAPI's test client, with the auth manager's answer fixed to the one DAG: the
overview on a fresh app (every summary read once), the overview again (the files
listed again, no summary read), one period's page (100 runs, listed again too)
and that period's month report (4,000 lines).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from bench.common import emit

PERIODS = tuple(f"2026-{month:02d}" for month in range(1, 11))
DAG_ID = "chargebee_month_end"


def _ms(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return (time.perf_counter() - started) * 1000


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ledger")
    parser.add_argument("--runs", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="cb-ledger-bench-") as folder:
        root = Path(folder) / "ledger"
        os.environ["AIRFLOW__CHARGEBEE__LEDGER_PATH"] = str(root)
        from fastapi.testclient import TestClient

        from airflow_provider_cb.ledger.month import build_month_report
        from airflow_provider_cb.plugins import app as page
        from airflow_provider_cb.testing.sample_ledger import write_sample_ledger

        started = time.perf_counter()
        files = 0
        for chunk in (0, 1):
            files += write_sample_ledger(
                root,
                PERIODS,
                runs_per_period=args.runs // len(PERIODS),
                map_index=chunk,
            )
        write_s = time.perf_counter() - started

        web = page.create_app()
        web.dependency_overrides[page.readable_dag_ids] = lambda: {DAG_ID}
        with TestClient(web) as client:
            cold = _ms(lambda: client.get("/api/periods").raise_for_status())
            # Every request lists the ledger again, as one a few seconds later does.
            page.ledger_index(str(root)).list_interval = 0.0
            warm = [_ms(lambda: client.get("/api/periods").raise_for_status()) for _ in range(5)]
            detail = [
                _ms(lambda: client.get("/api/periods/acme/2026-10").raise_for_status())
                for _ in range(5)
            ]
            shown = client.get("/api/periods/acme/2026-10").json()
        report_ms = _ms(lambda: build_month_report(root, "acme", "2026-10").csv_text())
        figures = {
            "runs": len(PERIODS) * (args.runs // len(PERIODS)),
            "ledger_files": files,
            "write_s": round(write_s, 2),
            "overview_cold_ms": round(cold, 1),
            "overview_warm_ms": round(statistics.median(warm), 1),
            "period_page_ms": round(statistics.median(detail), 1),
            "period_runs_shown": len(shown["runs"]),
            "month_report_ms": round(report_ms, 1),
        }
    emit("ledger", figures, runs=args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
