"""The site a system test talks to: a real Chargebee test site, or the emulator on 127.0.0.1.

``CHARGEBEE_SYSTEM_SITE`` (e.g. ``acme-test``) and ``CHARGEBEE_SYSTEM_API_KEY``
(a ``test_...`` key) choose a real test site; anything else is refused, so a
live site can never be acted on. Without them the same tests run against the
emulator, so they cannot rot.

What the API can create (a customer, a closed invoice of charges) is created
through the API on either site. What it cannot is read from the environment on a
real site and put in place directly on the emulator:

- ``CHARGEBEE_SYSTEM_PENDING_INVOICES``: two ``pending`` invoices (to close and to
  collect); pending invoices need metered billing or ``create_pending_invoices``.
- ``CHARGEBEE_SYSTEM_DUNNING_INVOICES``: two ``payment_due`` invoices in dunning
  whose customer has auto collection on (to stop, and to pause then resume);
  dunning needs a failed automatic collection.

Ids are comma-separated; a part without them is skipped, saying why.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from airflow_provider_cb.testing import ChargebeeEmulator

SITE_ENV = "CHARGEBEE_SYSTEM_SITE"
KEY_ENV = "CHARGEBEE_SYSTEM_API_KEY"
PENDING_ENV = "CHARGEBEE_SYSTEM_PENDING_INVOICES"
DUNNING_ENV = "CHARGEBEE_SYSTEM_DUNNING_INVOICES"
WHY_PENDING = (
    f"pending invoices cannot be created through the API (they need metered billing): "
    f"set {PENDING_ENV} to two pending invoice ids"
)
WHY_DUNNING = (
    f"dunning cannot be started through the API (it needs a failed automatic collection): "
    f"set {DUNNING_ENV} to two payment_due invoice ids in dunning, auto collection on"
)
ACTIONS_DAG = "example_chargebee_invoice_actions"
LISTING_DAG = "example_chargebee_listing_and_sensor"


class RefusedSite(Exception):
    """The environment names something other than a test site with a test key."""


def site_from_environment(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``(site, key)`` of a real test site, None for the emulator; refuses anything else."""
    site, key = environ.get(SITE_ENV, ""), environ.get(KEY_ENV, "")
    if not site and not key:
        return None
    if not site or not key:
        raise RefusedSite(f"set both {SITE_ENV} and {KEY_ENV}, or neither (emulator)")
    if not site.endswith("-test") or not site[: -len("-test")].replace("-", "").isalnum():
        raise RefusedSite(f"{SITE_ENV} must name a test site, e.g. 'acme-test'")
    if not key.startswith("test_"):
        raise RefusedSite(f"{KEY_ENV} must be a test site's API key (test_...)")
    return site, key


def _ids(environ: Mapping[str, str], name: str) -> list[str]:
    return [part.strip() for part in environ.get(name, "").split(",") if part.strip()]


@dataclass
class Prepared:
    """What a run has to work on: ids by purpose, and why a purpose has none."""

    customer_id: str
    owed: list[str]
    pending: list[str]
    dunning: list[str]
    missing: dict[str, str] = field(default_factory=dict)


class SystemSite:
    """One site for the whole session: how to reach it and what was prepared on it."""

    def __init__(
        self, base_url: str, key: str, connection: str, emulator: ChargebeeEmulator | None
    ) -> None:
        self.base_url = base_url
        self.emulator = emulator
        self.connection = connection
        self.http = httpx.Client(base_url=base_url, auth=(key, ""), timeout=30)
        self.answers: list[tuple[str, dict[str, Any]]] = []
        self.prepared: Prepared | None = None

    @property
    def is_real(self) -> bool:
        return self.emulator is None

    @classmethod
    @contextmanager
    def open(cls, environ: Mapping[str, str]) -> Iterator[SystemSite]:
        chosen = site_from_environment(environ)
        if chosen is not None:
            site, key = chosen
            connection = json.dumps(
                {
                    "conn_type": "chargebee",
                    "host": site.removesuffix("-test"),
                    "password": key,
                    "extra": {"test_site": True, "requests_per_minute": 60},
                }
            )
            real = cls(f"https://{site}.chargebee.com", key, connection, None)
            try:
                real.prepare(_ids(environ, PENDING_ENV), _ids(environ, DUNNING_ENV))
                yield real
            finally:
                real.http.close()
            return
        with ChargebeeEmulator(host="127.0.0.1") as emulator:
            local = cls(
                emulator.base_url,
                emulator.api_key,
                emulator.connection_json(lift_rate_budget=True),
                emulator,
            )
            try:
                local.prepare(*local._states_the_api_cannot_create())
                yield local
            finally:
                local.http.close()

    def _states_the_api_cannot_create(self) -> tuple[list[str], list[str]]:
        """On the emulator: two pending invoices and two in dunning with auto collection on."""
        assert self.emulator is not None
        self.emulator.add_customer("cus_dunning", auto_collection="on")
        for n in (1, 2):
            self.emulator.add_invoice(f"sys_pending_{n}", status="pending")
            self.emulator.add_invoice(
                f"sys_dunning_{n}",
                status="payment_due",
                customer_id="cus_dunning",
                dunning_status="in_progress",
            )
        return ["sys_pending_1", "sys_pending_2"], ["sys_dunning_1", "sys_dunning_2"]

    def prepare(self, pending: list[str], dunning: list[str]) -> None:
        """A customer with auto collection off and four owed invoices, created through the API.

        The rehearsal reads the first, writes off the second and third (a replay, a
        repeat in flight); the example DAG writes off the fourth.
        """
        customer = self.post(
            "/customers",
            {"id": f"sys_{secrets.token_hex(4)}", "auto_collection": "off", "first_name": "System"},
        )["customer"]
        owed = [
            self.post(
                "/invoices/create_for_charge_items_and_charges",
                {
                    "customer_id": customer["id"],
                    "currency_code": "USD",
                    "charges[amount][0]": str(1000 + n),
                    "charges[description][0]": f"system test charge {n}",
                },
            )["invoice"]["id"]
            for n in range(4)
        ]
        prepared = Prepared(customer["id"], owed, pending[:2], dunning[:2])
        if len(prepared.pending) < 2:
            prepared.missing["pending"] = WHY_PENDING
            prepared.pending = []
        if len(prepared.dunning) < 2:
            prepared.missing["dunning"] = WHY_DUNNING
            prepared.dunning = []
        self.prepared = prepared

    def run_conf(self, dag_id: str) -> dict[str, Any]:
        """The ids each example DAG acts on (an empty list for a part that is skipped)."""
        prepared = self.ready
        if dag_id == LISTING_DAG:
            return {"customer_id": prepared.customer_id}
        pending, dunning = prepared.pending or [None, None], prepared.dunning or [None, None]
        return {
            "close": [pending[0]] if pending[0] else [],
            "collect": [pending[1]] if pending[1] else [],
            "write_off": [prepared.owed[3]],
            "stop_dunning": [dunning[0]] if dunning[0] else [],
            "pause_dunning": [dunning[1]] if dunning[1] else [],
        }

    @property
    def ready(self) -> Prepared:
        assert self.prepared is not None, "the site was not prepared"
        return self.prepared

    def post(
        self, path: str, data: Mapping[str, str] | None = None, *, version: str = "v2", **kw: Any
    ) -> dict[str, Any]:
        """A POST that must succeed; its answer is kept for the field check."""
        response = self.request("POST", path, data=data, version=version, **kw)
        assert response.status_code == 200, f"POST {path}: {response.status_code} {response.text}"
        return dict(response.json())

    def get(self, path: str, *, version: str = "v2", **params: Any) -> dict[str, Any]:
        response = self.request("GET", path, params=params or None, version=version)
        assert response.status_code == 200, f"GET {path}: {response.status_code} {response.text}"
        return dict(response.json())

    def request(self, method: str, path: str, *, version: str = "v2", **kw: Any) -> httpx.Response:
        response = self.http.request(method, f"/api/{version}{path}", **kw)
        if response.status_code == 200:
            self.answers.append((f"{method} /api/{version}{path}", response.json()))
        return response
