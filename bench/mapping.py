"""Bulk versus mapping: 1,000 invoices closed by one bulk task or by 1,000 mapped tasks.

Two DAG files in a temporary DAGs folder, each run by ``airflow dags test`` on a
migrated SQLite Airflow home, each against a fresh emulator process seeded with
the same pending invoices. Both DAGs select the invoices with
``ListInvoicesOperator``; one closes them with ``CloseInvoiceOperator(invoice_ids=...)``,
the other with ``CloseInvoiceOperator.partial(...).expand(invoice_id=...)``. The
wall time of each ``airflow dags test`` command is measured, start-up included.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.common import EmulatorProcess, emit

DAG_HEADER = """
import pendulum
from airflow.sdk import DAG
from airflow_provider_cb.operators import CloseInvoiceOperator, ListInvoicesOperator

with DAG("{dag_id}", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={{"retries": 0}}):
    select = ListInvoicesOperator(task_id="select", status="pending", period="all")
"""
CLOSE = {
    "bench_bulk": "CloseInvoiceOperator(task_id='close', invoice_ids=select.output)",
    "bench_mapped": (
        "CloseInvoiceOperator.partial(task_id='close').expand(invoice_id=select.output)"
    ),
}
"""The bulk task uses the operator's default of 8 workers."""


def airflow() -> str:
    """The venv's ``airflow`` command, next to the running interpreter."""
    return str(Path(sys.executable).with_name("airflow"))


def write_dags(folder: Path) -> None:
    """Both DAGs differ only in the close task, so the difference is bulk versus mapping."""
    for dag_id, close in CLOSE.items():
        source = textwrap.dedent(DAG_HEADER).format(dag_id=dag_id) + f"    {close}\n"
        (folder / f"{dag_id}.py").write_text(source)


def run_dag(dag_id: str, invoices: int, env: dict[str, str]) -> dict[str, Any]:
    """One ``airflow dags test`` against a fresh emulator; wall time and what was closed."""
    with EmulatorProcess({"pending": invoices}) as emulator:
        run_env = {**env, "AIRFLOW_CONN_CHARGEBEE_DEFAULT": emulator.connection_json()}
        started = time.perf_counter()
        done = subprocess.run(
            [airflow(), "dags", "test", dag_id],
            env=run_env,
            capture_output=True,
            text=True,
            timeout=3600,
        )
        elapsed = time.perf_counter() - started
        server = emulator.stop()
    if done.returncode != 0 or server["applied"] != invoices:
        sys.stderr.write(done.stdout[-4000:] + done.stderr[-4000:])
        raise RuntimeError(f"{dag_id}: exit {done.returncode}, closed {server['applied']}")
    return {"seconds": elapsed, "server": server}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.mapping")
    parser.add_argument("--invoices", type=int, default=1000)
    args = parser.parse_args(argv)

    home = Path(tempfile.mkdtemp(prefix="cb-bench-airflow-"))
    (home / "dags").mkdir()
    write_dags(home / "dags")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__MAX_MAP_LENGTH": str(max(1024, args.invoices)),
    }
    try:
        subprocess.run([airflow(), "db", "migrate"], env=env, check=True, capture_output=True)
        bulk = run_dag("bench_bulk", args.invoices, env)
        mapped = run_dag("bench_mapped", args.invoices, env)
    finally:
        shutil.rmtree(home, ignore_errors=True)

    figures = {
        "bulk_s": round(bulk["seconds"], 1),
        "mapped_s": round(mapped["seconds"], 1),
        "mapped_over_bulk_x": round(mapped["seconds"] / bulk["seconds"], 2),
        "mapped_extra_ms_per_invoice": round(
            (mapped["seconds"] - bulk["seconds"]) / args.invoices * 1000, 1
        ),
        "bulk_duplicates": bulk["server"]["duplicates"],
        "mapped_duplicates": mapped["server"]["duplicates"],
    }
    emit("mapping", figures, invoices=args.invoices)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
