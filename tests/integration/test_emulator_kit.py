"""The testing kit as a user meets it: strict seed() types, and controls for a running emulator."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator

KEY = "test_key"
OCT_15_NOON = 1_792_065_600  # 2026-10-15T12:00:00Z
OCT_15 = 1_792_022_400  # 2026-10-15T00:00:00Z


@pytest.fixture
def http(chargebee_emulator: ChargebeeEmulator) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=chargebee_emulator.base_url, auth=(KEY, ""), timeout=10) as client:
        yield client


def listed_dates(http: httpx.Client) -> list[int]:
    response = http.get("/api/v2/invoices", params={"limit": 100})
    assert response.status_code == 200, response.text
    return [item["invoice"]["date"] for item in response.json()["list"]]


# seed() and add_invoice() types


@pytest.mark.parametrize(
    "date",
    [
        "2026-10-15T12:00:00Z",
        "2026-10-15T14:00:00+02:00",
        dt.datetime(2026, 10, 15, 12, tzinfo=dt.UTC),
        OCT_15_NOON,
    ],
    ids=["iso_z", "iso_offset", "datetime", "epoch"],
)
def test_a_seeded_date_is_stored_as_epoch_seconds_and_listed(
    date: Any, chargebee_emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    ids = chargebee_emulator.seed(2, date=date)

    assert listed_dates(http) == [OCT_15_NOON, OCT_15_NOON]
    assert chargebee_emulator.invoice(ids[0])["date"] == OCT_15_NOON


def test_a_bare_day_means_midnight_utc(chargebee_emulator: ChargebeeEmulator) -> None:
    invoice = chargebee_emulator.add_invoice(
        "inv_1", date="2026-10-15", expected_payment_date="2026-11-01T00:00:00Z"
    )
    assert invoice["date"] == OCT_15
    assert invoice["expected_payment_date"] == OCT_15 + 17 * 86_400


@pytest.mark.parametrize(
    ("fields", "error", "named"),
    [
        ({"date": "yesterday"}, ValueError, "date"),
        ({"date": "2026-10-15T12:00:00"}, ValueError, "date"),
        ({"date": dt.datetime(2026, 10, 15)}, ValueError, "date"),
        ({"date": dt.date(2026, 10, 15)}, TypeError, "date"),
        ({"date": 1.5}, TypeError, "date"),
        ({"date": True}, TypeError, "date"),
        ({"expected_payment_date": [OCT_15]}, TypeError, "expected_payment_date"),
        ({"amount_due": "100"}, TypeError, "amount_due"),
        ({"amount_due": -1}, ValueError, "amount_due"),
        ({"line_items": True}, TypeError, "line_items"),
        ({"status": "open"}, ValueError, "status"),
        ({"status": 1}, TypeError, "status"),
        ({"notes": "a note"}, TypeError, "notes"),
        ({"customer": "cus_1"}, TypeError, "customer"),
    ],
)
def test_seed_refuses_a_wrong_type_or_value_naming_the_field(
    fields: dict[str, Any],
    error: type[Exception],
    named: str,
    chargebee_emulator: ChargebeeEmulator,
) -> None:
    with pytest.raises(error, match=named):
        chargebee_emulator.seed(3, **fields)

    assert chargebee_emulator.invoices() == []


# Controls, in process and over HTTP


def test_set_status_paid_settles_what_is_due(chargebee_emulator: ChargebeeEmulator) -> None:
    chargebee_emulator.add_invoice("inv_1", status="payment_due", amount_due=2500)

    invoice = chargebee_emulator.set_status("inv_1", "paid", dunning_status="success")

    assert (invoice["status"], invoice["amount_due"], invoice["amount_paid"]) == ("paid", 0, 2500)
    assert invoice["dunning_status"] == "success"
    assert invoice["paid_at"] == invoice["updated_at"]


def test_a_partial_then_a_full_payment(chargebee_emulator: ChargebeeEmulator) -> None:
    chargebee_emulator.add_invoice(
        "inv_1", status="payment_due", amount_due=2500, dunning_status="in_progress"
    )

    part = chargebee_emulator.record_payment("inv_1", 1000)
    rest = chargebee_emulator.record_payment("inv_1")

    assert (part["status"], part["amount_due"], part["amount_paid"]) == ("payment_due", 1500, 1000)
    assert (rest["status"], rest["amount_due"], rest["amount_paid"]) == ("paid", 0, 2500)
    assert rest["dunning_status"] == "success"


@pytest.mark.parametrize(
    ("status", "amount", "problem"),
    [
        ("pending", None, "needs one of"),
        ("payment_due", 0, "from 1 to"),
        ("payment_due", 9999, "from 1 to"),
    ],
)
def test_a_payment_that_cannot_be_is_refused(
    status: str, amount: int | None, problem: str, chargebee_emulator: ChargebeeEmulator
) -> None:
    chargebee_emulator.add_invoice("inv_1", status=status, amount_due=2500)
    with pytest.raises(ValueError, match=problem):
        chargebee_emulator.record_payment("inv_1", amount)
    assert chargebee_emulator.invoice("inv_1")["amount_due"] == 2500


def test_a_changed_invoice_moves_in_the_updated_at_order(
    chargebee_emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    chargebee_emulator.seed(3, status="payment_due")
    chargebee_emulator.advance(60)
    chargebee_emulator.record_payment("inv_000001")

    response = http.get("/api/v2/invoices", params={"sort_by[desc]": "updated_at", "limit": 1})

    assert [item["invoice"]["id"] for item in response.json()["list"]] == ["inv_000001"]


def test_control_routes_change_the_running_emulator(
    chargebee_emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    chargebee_emulator.seed(2, status="payment_due")
    before = chargebee_emulator.clock.now()

    paid = http.post("/_emulator/invoices/inv_000001/payments", json={})
    voided = http.post("/_emulator/invoices/inv_000002/status", json={"status": "voided"})
    added = http.post("/_emulator/seed", json={"count": 2, "date": "2026-10-15"})
    moved = http.post("/_emulator/clock", json={"advance": 3600})

    assert paid.json()["invoice"]["status"] == "paid"
    assert voided.json()["invoice"]["status"] == "voided"
    assert added.json() == {"ids": ["inv_000003", "inv_000004"]}
    assert chargebee_emulator.invoice("inv_000004")["date"] == OCT_15
    assert moved.json()["now"] >= before + 3600
    assert chargebee_emulator.clock.offset == 3600
    assert chargebee_emulator.requests.snapshot() == []  # controls are not API traffic


@pytest.mark.parametrize(
    ("path", "body", "auth", "status", "says"),
    [
        ("/_emulator/clock", {"advance": 1}, ("wrong", ""), 401, "API key"),
        ("/_emulator/clock", {"advance": -1}, (KEY, ""), 400, "only moves forward"),
        ("/_emulator/clock", {"advance": 1, "extra": 1}, (KEY, ""), 400, "extra"),
        ("/_emulator/seed", {"count": 1, "date": "soon"}, (KEY, ""), 400, "date"),
        ("/_emulator/seed", {"count": "1"}, (KEY, ""), 400, "count"),
        ("/_emulator/invoices/inv_9/status", {"status": "paid"}, (KEY, ""), 404, "inv_9"),
        ("/_emulator/invoices/inv_000001/status", {"status": "open"}, (KEY, ""), 400, "open"),
        ("/_emulator/invoices/inv_000001/payments", {"amount": "all"}, (KEY, ""), 400, "amount"),
        ("/_emulator/reset", {}, (KEY, ""), 404, "no control route"),
    ],
)
def test_control_routes_refuse_clearly(
    path: str,
    body: dict[str, Any],
    auth: tuple[str, str],
    status: int,
    says: str,
    chargebee_emulator: ChargebeeEmulator,
) -> None:
    chargebee_emulator.seed(1, status="payment_due")
    with httpx.Client(base_url=chargebee_emulator.base_url, auth=auth, timeout=10) as client:
        response = client.post(path, json=body)

    assert response.status_code == status, response.text
    assert says in response.json()["error"]
    assert chargebee_emulator.invoice("inv_000001")["status"] == "payment_due"


# Command line


def control(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow_provider_cb.testing.control", *argv],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_control_cli_drives_a_running_emulator(
    chargebee_emulator: ChargebeeEmulator, tmp_path: Path
) -> None:
    ready = tmp_path / "cb.url"
    ready.write_text(chargebee_emulator.base_url + "\n")
    chargebee_emulator.seed(2, status="payment_due", amount_due=2500)

    results = [
        control("--ready-file", str(ready), "pay", "inv_000001", "--amount", "500"),
        control("--url", chargebee_emulator.base_url, "status", "inv_000002", "not_paid"),
        control("--ready-file", str(ready), "add", "pending=2@2026-10-15", "paid=1"),
        control("--ready-file", str(ready), "advance", "1800"),
    ]

    assert [r.returncode for r in results] == [0, 0, 0, 0], [r.stderr for r in results]
    assert results[0].stdout == "inv_000001: payment_due, amount due 2000\n"
    assert results[1].stdout == "inv_000002: not_paid, amount due 2500\n"
    assert results[2].stdout == "added 3 invoices: inv_000003…inv_000005\n"
    assert [inv["date"] for inv in chargebee_emulator.invoices()[:2]] == [OCT_15, OCT_15]
    assert chargebee_emulator.invoice("inv_000005")["status"] == "paid"
    assert chargebee_emulator.clock.offset == 1800


def test_control_cli_reports_a_refusal_without_a_traceback(
    chargebee_emulator: ChargebeeEmulator,
) -> None:
    result = control("--url", chargebee_emulator.base_url, "pay", "inv_404")

    assert result.returncode == 1
    assert result.stderr == "error: 404: no invoice 'inv_404'\n"


def test_each_cli_seed_has_its_own_date(tmp_path: Path) -> None:
    ready = tmp_path / "cb.url"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_cb.testing",
            "--seed",
            "pending=2@2026-10-15",
            "--seed",
            "payment_due=1",
            "--date",
            "2026-10-15T12:00:00Z",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        assert "(3 invoices; due USD 300.00)" in server.stdout.readline()
        with httpx.Client(base_url=ready.read_text().strip(), auth=(KEY, "")) as http:
            dates = listed_dates(http)
    finally:
        server.terminate()
        server.wait(timeout=30)

    assert dates == [OCT_15, OCT_15, OCT_15_NOON]


# Lifting the rate budget


@pytest.mark.parametrize(("lift", "expected"), [(False, 6.0), (True, None)])
def test_a_lifted_connection_drops_every_tasks_rate_budget(
    lift: bool,
    expected: float | None,
    chargebee_emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from airflow_provider_cb.hooks.chargebee import ChargebeeHook

    connection = chargebee_emulator.connection_json(lift_rate_budget=lift)
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", connection)

    settings, _ = ChargebeeHook(requests_per_minute=6).connection_settings()

    assert settings.pace == expected
