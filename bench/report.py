"""Medians of a benchmark's runs as a table, optionally written into docs/benchmarks.md.

``python -m bench.report bench/results/NAME.jsonl [--record]`` reads one JSON line
per run, prints median, min and max of every figure with its target, and with
``--record`` replaces the section between ``<!-- bench:NAME -->`` and
``<!-- /bench:NAME -->`` in docs/benchmarks.md. Prose around the markers is kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import operator
import statistics
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.common import REPO

DOC = REPO / "docs" / "benchmarks.md"
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
}

TARGETS: dict[str, dict[str, tuple[str, float]]] = {
    "throughput": {
        "hook_vs_sdk_seq_x": (">=", 20),
        "hook_vs_httpx_seq_pct": (">=", 80),
        "hook_vs_httpx_conc_pct": (">=", 80),
        "duplicates": ("==", 0),
        "non_200": ("==", 0),
    },
    "ratelimit": {
        "pct_of_limit": (">=", 95),
        "bursts_429": ("<=", 1),
        "duplicates": ("==", 0),
    },
    "budget": {
        "fixed_pct_of_limit": (">=", 97),
        "fixed_429": ("==", 0),
        "sliding_pct_of_limit": (">=", 97),
        "sliding_429": ("==", 0),
        "token_bucket_pct_of_limit": (">=", 97),
        "token_bucket_429": ("==", 0),
        "too_high_pct_of_limit": (">=", 85),
        "too_high_429_per_min": ("<=", 5),
        "shared_pct_of_limit": (">=", 95),
        "shared_429": ("==", 0),
        "duplicates": ("==", 0),
    },
    "mapping": {"bulk_duplicates": ("==", 0), "mapped_duplicates": ("==", 0)},
    "memory": {"peak_rss_mb": ("<", 300), "duplicates": ("==", 0)},
    "import": {"operators_extra_ms": ("<=", 50), "heavy_modules": ("==", 0)},
    "ledger": {
        "overview_cold_ms": ("<=", 3000),
        "overview_warm_ms": ("<=", 1000),
        "period_page_ms": ("<=", 1000),
    },
    "resume": {
        "after_within_target": ("==", 1),
        "after_closed": ("==", 10_000),
        "before_closed": ("==", 10_000),
        "journal_largest_value_kb": ("<", 64),
        "duplicates": ("==", 0),
    },
}


def _number(value: float) -> str:
    """Thousands separated for large figures, short form for small ones."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:g}"


def table(runs: list[dict[str, Any]]) -> str:
    """A Markdown table: one row per figure, median over the runs first."""
    name = runs[0]["bench"]
    targets = TARGETS.get(name, {})
    lines = [
        "| figure | median | min | max | target | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for figure in runs[0]["figures"]:
        values = [float(run["figures"][figure]) for run in runs]
        median = statistics.median(values)
        target, met = "", ""
        if figure in targets:
            op, bound = targets[figure]
            target = f"{op} {_number(bound)}"
            met = "yes" if _OPS[op](median, bound) else "**no**"
        lines.append(
            f"| {figure} | {_number(median)} | {_number(min(values))} | "
            f"{_number(max(values))} | {target} | {met} |"
        )
    return "\n".join(lines)


def provenance(runs: list[dict[str, Any]]) -> str:
    """When and where: the machine of the first run and the load before each run."""
    first = runs[0]["machine"]
    loads = ", ".join(f"{run['machine']['load_at_start'][0]:.2f}" for run in runs)
    others = ", ".join(f"{run['machine']['others_cores']:.2f}" for run in runs)
    return (
        f"{len(runs)} runs on {dt.date.today().isoformat()}: {first['cpu']}, "
        f"{first['cores']} cores, {first['memory_gib']} GiB, {first['os']}, "
        f"Python {first['python']}, Airflow {first['airflow']}, httpx {first['httpx']}. "
        f"1-minute load average before each run: {loads}; cores used by other "
        f"processes during each run: {others}."
    )


def record(name: str, text: str, doc: Path = DOC) -> None:
    """Replace only the marked section, so the prose around the figures stays as written."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    content = doc.read_text()
    before, found, rest = content.partition(start)
    if not found or end not in rest:
        raise SystemExit(f"{doc} has no {start} ... {end} section")
    after = rest.partition(end)[2]
    doc.write_text(f"{before}{start}\n{text}\n{end}{after}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.report")
    parser.add_argument("results", type=Path, help="JSON lines, one per run")
    parser.add_argument("--record", action="store_true", help="write into docs/benchmarks.md")
    args = parser.parse_args(argv)
    runs = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    if not runs:
        raise SystemExit(f"{args.results}: no results")
    text = f"{provenance(runs)}\n\n{table(runs)}"
    print(text)
    if args.record:
        record(runs[0]["bench"], text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
