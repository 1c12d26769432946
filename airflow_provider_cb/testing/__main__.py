"""Run the emulator as a process, for manual tests and for DAG runs in another process.

``python -m airflow_provider_cb.testing --seed pending=100 --ready-file /tmp/cb.url``
prints one line when listening, writes the base URL to the ready file (atomically,
so a watcher never reads half a URL) and serves until SIGINT or SIGTERM.
``--currencies EUR,JPY --amounts 1000:50000`` gives the seeded invoices those
currencies in turn and amounts (in each currency's minor units) spread over the
range, the same on every start.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import sys
import tempfile
import threading
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from airflow_provider_cb.invoicing.money import format_money
from airflow_provider_cb.testing.control import bounded_int, epoch, seed_spec
from airflow_provider_cb.testing.emulator import ChargebeeEmulator
from airflow_provider_cb.testing.fields import DEFAULT_AMOUNT
from airflow_provider_cb.testing.idempotency import DEFAULT_IN_FLIGHT_MESSAGE
from airflow_provider_cb.testing.ratelimit import RATE_LIMIT_WINDOWS
from airflow_provider_cb.testing.server import check_loopback
from airflow_provider_cb.testing.wire import Dialect

_API_KEY = re.compile(r"[A-Za-z0-9_.-]{1,200}")


def _processing_seconds(text: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds <= 600:
        raise argparse.ArgumentTypeError(f"{text!r:.40} is not a number of seconds from 0 to 600")
    return seconds


def _api_key(text: str) -> str:
    if not _API_KEY.fullmatch(text):
        raise argparse.ArgumentTypeError(
            "must be 1 to 200 letters, digits, '_', '-' or '.' (no spaces or ':')"
        )
    return text


_CURRENCY = re.compile(r"[A-Z]{3}")
_MAX_AMOUNT = 10**12


def _currencies(text: str) -> tuple[str, ...]:
    codes = tuple(code.strip().upper() for code in text.split(","))
    if not all(_CURRENCY.fullmatch(code) for code in codes):
        raise argparse.ArgumentTypeError(
            f"{text!r:.60} must be ISO 4217 currency codes separated by commas, e.g. EUR,JPY"
        )
    return codes


def _amounts(text: str) -> tuple[int, int]:
    low, _, high = text.partition(":")
    parse = bounded_int("amount", 0, _MAX_AMOUNT)
    try:
        bounds = (parse(low), parse(high or low))
    except argparse.ArgumentTypeError:
        bounds = (1, 0)
    if bounds[0] > bounds[1]:
        raise argparse.ArgumentTypeError(
            f"{text!r:.40} must be AMOUNT or MIN:MAX in minor units, from 0 to {_MAX_AMOUNT}, "
            "MIN not above MAX"
        )
    return bounds


def _loopback(text: str) -> str:
    try:
        check_loopback(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_cb.testing",
        description="Serve an emulated Chargebee site on localhost.",
    )
    parser.add_argument("--host", type=_loopback, default="127.0.0.1", help="loopback address")
    parser.add_argument(
        "--port", type=bounded_int("port", 0, 65535), default=0, help="0 picks a free port"
    )
    parser.add_argument("--api-key", type=_api_key, default="test_key")
    parser.add_argument("--site", default="acme")
    parser.add_argument(
        "--seed",
        type=seed_spec,
        action="append",
        default=[],
        metavar="STATUS=COUNT[@DATE]",
        help="create COUNT invoices in STATUS dated DATE (e.g. pending=100@2026-10-15); "
        "repeatable, ids continue across seeds",
    )
    parser.add_argument(
        "--date",
        type=epoch,
        default=None,
        metavar="ISO-8601",
        help="date of seeded invoices without their own @DATE, e.g. 2026-10-15T12:00:00Z "
        "(default: now)",
    )
    parser.add_argument(
        "--currencies",
        type=_currencies,
        default=("USD",),
        metavar="CODE[,CODE...]",
        help="currencies of the seeded invoices, taken in turn (default: USD)",
    )
    parser.add_argument(
        "--amounts",
        type=_amounts,
        default=None,
        metavar="AMOUNT|MIN:MAX",
        help="amount due of each seeded invoice in its currency's minor units (cents for EUR, "
        "yen for JPY), or spread over MIN:MAX the same on every start (default: 10000)",
    )
    parser.add_argument(
        "--requests-per-minute", type=bounded_int("requests per minute", 1, 100_000), default=None
    )
    parser.add_argument(
        "--rate-limit-window",
        choices=RATE_LIMIT_WINDOWS,
        default="fixed",
        help="how the limit is counted: fixed calendar minutes (default), a sliding "
        "60-second window, or a token bucket holding one second's worth",
    )
    dialect = parser.add_argument_group("error dialect (what Chargebee's documents leave open)")
    dialect.add_argument(
        "--conflict-status",
        type=int,
        choices=(400, 409),
        default=409,
        help="HTTP status of invalid_state_for_request (default 409, as the specification says)",
    )
    dialect.add_argument(
        "--legacy-errors",
        action="store_true",
        help="error bodies with only error_msg, error_code and error_param",
    )
    dialect.add_argument(
        "--retry-after",
        choices=("seconds", "http_date"),
        default="seconds",
        help="how Retry-After is written",
    )
    dialect.add_argument(
        "--processing-seconds",
        type=_processing_seconds,
        default=0.0,
        help="keep each idempotent POST in progress this long (a same-key repeat gets a "
        "state conflict)",
    )
    dialect.add_argument(
        "--in-flight-message",
        default=DEFAULT_IN_FLIGHT_MESSAGE,
        help="the message of that state conflict (Chargebee documents none)",
    )
    parser.add_argument("--ready-file", type=Path, help="write the base URL here once listening")
    return parser


def _write_atomically(path: Path, text: str) -> None:
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(temporary, path)


def seed_invoices(emulator: ChargebeeEmulator, args: argparse.Namespace) -> str:
    """Create the ``--seed`` invoices; say how many and what they owe per currency."""
    currencies: tuple[str, ...] = args.currencies
    number = 1
    owed: Counter[str] = Counter()
    for spec in args.seed:
        date = args.date if spec.date is None else spec.date
        for _ in range(spec.count):
            currency = currencies[(number - 1) % len(currencies)]
            amount = _amount(args.amounts, number)
            invoice_id = emulator.seed(
                1,
                status=spec.status,
                start=number,
                date=date,
                currency_code=currency,
                amount_due=amount,
            )[0]
            owed[currency] += emulator.invoice(invoice_id)["amount_due"]
            number += 1
    due = ", ".join(format_money(owed[c], c) for c in sorted(owed))
    return f"{number - 1} invoices" + (f"; due {due}" if due else "")


def _amount(bounds: tuple[int, int] | None, number: int) -> int:
    """Invoice ``number``'s amount: fixed by its number, so every start seeds the same."""
    if bounds is None:
        return DEFAULT_AMOUNT
    low, high = bounds
    return random.Random(number).randint(low, high)


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    emulator = ChargebeeEmulator(
        args.api_key,
        site=args.site,
        requests_per_minute=args.requests_per_minute,
        rate_limit_window=args.rate_limit_window,
        host=args.host,
        port=args.port,
        dialect=Dialect(
            conflict_status=args.conflict_status,
            legacy_errors=args.legacy_errors,
            retry_after=args.retry_after,
        ),
        in_flight_message=args.in_flight_message,
    )
    emulator.processing_seconds = args.processing_seconds
    owed = seed_invoices(emulator, args)
    with emulator:
        if args.ready_file is not None:
            _write_atomically(args.ready_file, emulator.base_url + "\n")
        print(f"chargebee emulator listening on {emulator.base_url} ({owed})", flush=True)
        while not stop.wait(0.5):
            pass
    applied = Counter(record.action for record in emulator.applied_actions)
    summary = ", ".join(f"{name}={n}" for name, n in sorted(applied.items())) or "none"
    print(f"chargebee emulator stopped; applied actions: {summary}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
