"""Controls for a running emulator over HTTP, for what happens outside the DAG under test.

A customer pays, support voids an invoice, new invoices arrive, time passes: a
test drives these with the emulator's methods, and a DAG run against an emulator
in another process drives them through these routes (or
``python -m airflow_provider_cb.testing.control``). Each takes a JSON body and
the site's API key; none is logged, rate limited or faulted, since none is part
of Chargebee's API.

==================================================  ===============================================
``POST /_emulator/invoices/{id}/status``            ``{"status": "paid", "dunning_status": ...}``
``POST /_emulator/invoices/{id}/payments``          ``{"amount": 2500}`` (default: all that is due)
``POST /_emulator/seed``                            ``{"count": 10, "prefix": "inv_", <fields>}``
``POST /_emulator/clock``                           ``{"advance": 3600}`` (seconds)
==================================================  ===============================================

Each answers 200 with the changed invoice, the new ids or the new time, 400
with ``{"error": ...}`` for a bad request, 404 for an unknown invoice or route.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from airflow_provider_cb.testing.api import Request, Site
from airflow_provider_cb.testing.store import InvoiceStore
from airflow_provider_cb.testing.wire import Answer, json_answer

if TYPE_CHECKING:
    from airflow_provider_cb.testing.emulator import ChargebeeEmulator

CONTROL_PREFIX = "/_emulator/"


class ControlApi:
    """Routes control requests to the emulator's own methods."""

    def __init__(self, emulator: ChargebeeEmulator, site: Site, store: InvoiceStore) -> None:
        self._emulator = emulator
        self._site = site
        self._store = store

    def handle(self, request: Request) -> Answer:
        if not self._site.authorized(request.authorization):
            return _error(401, "the API key is wrong or missing")
        if request.method != "POST":
            return _error(405, "control routes take POST")
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            return _error(400, "the body must be a JSON object")
        route = request.path[len(CONTROL_PREFIX) :].split("/")
        try:
            return json_answer(200, self._route(route, body))
        except KeyError as error:
            return _error(404, str(error.args[0]) if error.args else "unknown")
        except (TypeError, ValueError) as error:
            return _error(400, str(error))

    def _route(self, route: list[str], body: dict[str, Any]) -> dict[str, Any]:
        emulator = self._emulator
        if route == ["clock"]:
            emulator.advance(_number(body.pop("advance", None)))
            _no_more(body)
            return {"now": emulator.clock.now()}
        if route == ["seed"]:
            count, prefix = body.pop("count", None), body.pop("prefix", "inv_")
            if isinstance(count, bool) or not isinstance(count, int) or count < 0:
                raise ValueError(f"count {count!r:.40} must be a whole number")
            if not isinstance(prefix, str):
                raise ValueError(f"prefix {prefix!r:.40} must be text")
            start = self._store.next_number(prefix)
            return {"ids": emulator.seed(count, prefix=prefix, start=start, **body)}
        if len(route) == 3 and route[0] == "invoices" and route[2] == "status":
            status = body.pop("status", None)
            if not isinstance(status, str):
                raise ValueError(f"status {status!r:.40} must be text")
            dunning = body.pop("dunning_status", None)
            _no_more(body)
            return {
                "invoice": emulator.set_status(unquote(route[1]), status, dunning_status=dunning)
            }
        if len(route) == 3 and route[0] == "invoices" and route[2] == "payments":
            amount = body.pop("amount", None)
            _no_more(body)
            return {"invoice": emulator.record_payment(unquote(route[1]), amount)}
        raise KeyError(f"no control route {CONTROL_PREFIX}{'/'.join(route)}")


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"advance {value!r:.40} must be a number of seconds")
    return value


def _no_more(body: dict[str, Any]) -> None:
    if body:
        raise ValueError(f"unknown field(s) {sorted(body)}")


def _error(status: int, message: str) -> Answer:
    return json_answer(status, {"error": message})
