"""Drive a running emulator from a shell or a script, through its control routes.

A DAG run against ``python -m airflow_provider_cb.testing`` in another process
can still see a customer pay, an invoice voided, new invoices or time passing
(``$CONTROL`` standing for ``python -m airflow_provider_cb.testing.control
--ready-file /tmp/cb.url``)::

    $CONTROL pay inv_000001
    $CONTROL status inv_000002 voided
    $CONTROL add payment_due=20@2026-09-30
    $CONTROL advance 3600

From Python, :class:`EmulatorControl` does the same; the routes are described in
:mod:`~airflow_provider_cb.testing.control_api`.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Self, Unpack

import httpx

from airflow_provider_cb.testing.control_api import CONTROL_PREFIX
from airflow_provider_cb.testing.fields import InvoiceFields, to_epoch
from airflow_provider_cb.testing.rules import INVOICE_STATUSES

MAX_SEED = 100_000
"""Invoices one seed may create: the emulator keeps them all in memory."""


class ControlError(Exception):
    """The emulator refused a control request; the message is its reason."""


@dataclass(frozen=True, slots=True)
class SeedSpec:
    """``STATUS=COUNT[@DATE]``: COUNT invoices in STATUS, dated DATE (default: now)."""

    status: str
    count: int
    date: int | None


def bounded_int(name: str, low: int, high: int) -> Callable[[str], int]:
    """An argparse type for a whole number from ``low`` to ``high``."""

    def parse(text: str) -> int:
        if not text.strip().isdigit() or not low <= int(text) <= high:
            raise argparse.ArgumentTypeError(
                f"{name} {text!r:.40} is not a number from {low} to {high}"
            )
        return int(text)

    return parse


def epoch(text: str) -> int:
    """An argparse type for a date: ISO-8601 with a zone, a bare day (UTC) or epoch seconds."""
    try:
        return to_epoch("date", text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def seed_spec(text: str) -> SeedSpec:
    """An argparse type for ``STATUS=COUNT[@DATE]``, e.g. ``pending=100@2026-10-15``."""
    status, _, rest = text.partition("=")
    count, _, date = rest.partition("@")
    if status not in INVOICE_STATUSES or not count.isdigit():
        raise argparse.ArgumentTypeError(
            f"{text!r:.60} must be STATUS=COUNT[@DATE] with STATUS one of "
            f"{', '.join(INVOICE_STATUSES)}"
        )
    number = bounded_int("COUNT", 0, MAX_SEED)(count)
    return SeedSpec(status, number, epoch(date) if date else None)


class EmulatorControl:
    """A client of a running emulator's control routes."""

    def __init__(self, base_url: str, api_key: str = "test_key", *, timeout: float = 30) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + CONTROL_PREFIX, auth=(api_key, ""), timeout=timeout
        )

    def set_status(
        self, invoice_id: str, status: str, *, dunning_status: str | None = None
    ) -> dict[str, Any]:
        body = {"status": status, "dunning_status": dunning_status}
        return dict(self._post(f"invoices/{invoice_id}/status", body)["invoice"])

    def record_payment(self, invoice_id: str, amount: int | None = None) -> dict[str, Any]:
        return dict(self._post(f"invoices/{invoice_id}/payments", {"amount": amount})["invoice"])

    def seed(
        self, count: int, *, prefix: str = "inv_", **fields: Unpack[InvoiceFields]
    ) -> list[str]:
        """New invoices, numbered on from the highest id with ``prefix``; fields as in ``seed``."""
        body = {"count": count, "prefix": prefix, **fields}
        return list(self._post("seed", body)["ids"])

    def advance(self, seconds: float) -> float:
        """Move the emulator's clock forward; returns its time now, in epoch seconds."""
        return float(self._post("clock", {"advance": seconds})["now"])

    def _post(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        response = self._http.post(route, content=json.dumps(body, default=str))
        answer = response.json()
        if response.status_code != 200:
            raise ControlError(f"{response.status_code}: {answer.get('error')}")
        return dict(answer)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_cb.testing.control",
        description="Change a running Chargebee emulator's invoices or clock.",
    )
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--url", help="the emulator's base URL, e.g. http://127.0.0.1:41235")
    where.add_argument("--ready-file", type=Path, help="the emulator's --ready-file")
    parser.add_argument("--api-key", default="test_key")
    commands = parser.add_subparsers(dest="command", required=True)
    status = commands.add_parser("status", help="put an invoice in a status")
    status.add_argument("invoice_id")
    status.add_argument("status", choices=INVOICE_STATUSES)
    status.add_argument("--dunning-status")
    pay = commands.add_parser("pay", help="record a customer's payment")
    pay.add_argument("invoice_id")
    pay.add_argument("--amount", type=bounded_int("--amount", 1, 10**12), help="cents")
    add = commands.add_parser("add", help="add invoices, numbered on from the last")
    add.add_argument("seeds", type=seed_spec, nargs="+", metavar="STATUS=COUNT[@DATE]")
    advance = commands.add_parser("advance", help="move the clock forward")
    advance.add_argument("seconds", type=bounded_int("seconds", 0, 10**9))
    return parser


def _run(control: EmulatorControl, args: argparse.Namespace) -> str:
    if args.command == "status":
        invoice = control.set_status(
            args.invoice_id, args.status, dunning_status=args.dunning_status
        )
    elif args.command == "pay":
        invoice = control.record_payment(args.invoice_id, args.amount)
    elif args.command == "add":
        ids = [
            invoice_id
            for spec in args.seeds
            for invoice_id in control.seed(spec.count, status=spec.status, date=spec.date)
        ]
        return f"added {len(ids)} invoices" + (f": {ids[0]}…{ids[-1]}" if ids else "")
    else:
        return f"clock now {control.advance(args.seconds):.0f}"
    return f"{invoice['id']}: {invoice['status']}, amount due {invoice['amount_due']}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        url = args.url or args.ready_file.read_text().strip()
        with EmulatorControl(url, args.api_key) as control:
            print(_run(control, args), flush=True)
    except (ControlError, httpx.HTTPError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
