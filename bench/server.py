"""Serve the package's Chargebee emulator in its own process and report its counters at exit.

The benchmarked client must not share a GIL with the server, so the emulator runs
in a separate process, started the way ``python -m airflow_provider_cb.testing``
starts it. That command cannot report what the benchmarks check (429s, their
bursts, duplicates), so this one also writes those counters to ``--stats-file``
when it receives SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from airflow_provider_cb.testing import ChargebeeEmulator, RequestRecord


def _seed_spec(text: str) -> tuple[str, int]:
    status, _, count = text.partition("=")
    if not status or not count.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} must be STATUS=COUNT")
    return status, int(count)


def _write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def burst_count(statuses: Sequence[int | None]) -> int:
    """Runs of consecutive 429 answers, in arrival order, separated by any other answer."""
    bursts = 0
    previous: int | None = None
    for status in statuses:
        if status == 429 and previous != 429:
            bursts += 1
        previous = status
    return bursts


def stats(emulator: ChargebeeEmulator) -> dict[str, Any]:
    """The counters the benchmarks report, read once the clients have finished."""
    requests: list[RequestRecord] = emulator.requests.snapshot()
    statuses = [record.status for record in requests]
    limited = [record.at for record in requests if record.status == 429]
    return {
        "requests": len(requests),
        "by_status": {str(k): v for k, v in sorted(Counter(statuses).items(), key=str)},
        "by_method": dict(Counter(record.method for record in requests)),
        "rate_limited": emulator.rate_limited_count,
        "bursts": burst_count(statuses),
        "first_429_at": min(limited) if limited else None,
        "first_at": requests[0].at if requests else None,
        "last_at": requests[-1].at if requests else None,
        "applied": emulator.count_applied(),
        "duplicates": len(emulator.duplicates()),
        "max_in_flight": emulator.max_in_flight,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.server")
    parser.add_argument("--seed", type=_seed_spec, action="append", default=[])
    parser.add_argument("--requests-per-minute", type=int, default=None)
    parser.add_argument("--rate-limit-window", default="fixed")
    parser.add_argument("--ready-file", type=Path, required=True)
    parser.add_argument("--stats-file", type=Path, required=True)
    args = parser.parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    emulator = ChargebeeEmulator(
        requests_per_minute=args.requests_per_minute, rate_limit_window=args.rate_limit_window
    )
    number = 1
    for status, count in args.seed:
        emulator.seed(count, status=status, start=number)
        number += count
    with emulator:
        _write_atomically(args.ready_file, emulator.base_url + "\n")
        while not stop.wait(0.2):
            pass
    _write_atomically(args.stats_file, json.dumps(stats(emulator)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
