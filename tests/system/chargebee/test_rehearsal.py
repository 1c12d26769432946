"""The rehearsal: each assumption the emulator encodes, checked against the system site.

Against the emulator every check must be confirmed (it is the emulator's own
behaviour, so the checks cannot rot); against a real test site each verdict is
what Chargebee really does, and a contradiction fails the test and names what
the site answered. The table of verdicts is printed at the end of the run.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from tests.contract.official import V2_MODELS, sdk_fields, unknown_fields, v1_invoice_fields
from tests.system.findings import Findings
from tests.system.site import SystemSite

DAY = 86_400
REPLAYED = "chargebee-idempotency-replayed"
KEY_HEADER = "chargebee-idempotency-key"


def code_of(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get("api_error_code") if isinstance(body, dict) else None


def test_a_created_invoice_is_closed_and_owed(system_site: SystemSite, findings: Findings) -> None:
    invoice = system_site.get(f"/invoices/{system_site.ready.owed[0]}")["invoice"]
    observed = f"status {invoice['status']}, dunning {invoice.get('dunning_status')}"
    confirmed = invoice["status"] == "payment_due" and "dunning_status" not in invoice
    assert findings.record(
        "an invoice created for a customer with auto collection off is payment_due, no dunning",
        confirmed,
        observed,
    ), observed


def test_a_state_conflict_is_409_invalid_state_for_request(
    system_site: SystemSite, findings: Findings
) -> None:
    response = system_site.request("POST", f"/invoices/{system_site.ready.owed[0]}/close")
    observed = f"{response.status_code} {code_of(response)}"
    assert findings.record(
        "closing a closed invoice: 409 invalid_state_for_request",
        (response.status_code, code_of(response)) == (409, "invalid_state_for_request"),
        observed,
    ), observed


def test_a_keyed_repeat_is_replayed_and_acts_once(
    system_site: SystemSite, findings: Findings
) -> None:
    invoice_id = system_site.ready.owed[1]
    key = f"system-replay-{invoice_id}-{time.time_ns()}"
    path = f"/invoices/{invoice_id}/write_off"
    first = system_site.request(
        "POST", path, data={"comment": "rehearsal"}, headers={KEY_HEADER: key}
    )
    second = system_site.request(
        "POST", path, data={"comment": "rehearsal"}, headers={KEY_HEADER: key}
    )
    changed = system_site.request(
        "POST", path, data={"comment": "other"}, headers={KEY_HEADER: key}
    )
    invoice = system_site.get(f"/invoices/{invoice_id}")["invoice"]
    replay = (
        first.status_code == second.status_code == 200
        and second.headers.get(REPLAYED) == "true"
        and second.json() == first.json()
    )
    assert findings.record(
        "a keyed repeat within 30 minutes: the first answer, replayed: true",
        replay,
        f"{first.status_code}, then {second.status_code} replayed={second.headers.get(REPLAYED)}",
    )
    assert findings.record(
        "the same key with another body: 422 unable_to_process_request",
        (changed.status_code, code_of(changed)) == (422, "unable_to_process_request"),
        f"{changed.status_code} {code_of(changed)}",
    )
    assert findings.record(
        "a write-off leaves write_off_amount = the amount that was due",
        invoice["status"] == "paid" and invoice.get("write_off_amount") == invoice["total"],
        f"status {invoice['status']}, write_off_amount {invoice.get('write_off_amount')}",
    )


@contextmanager
def slow_site(system_site: SystemSite) -> Iterator[None]:
    """On the emulator, keep each keyed POST in progress long enough for a repeat to overlap."""
    if system_site.emulator is None:
        yield
        return
    system_site.emulator.processing_seconds = 0.5
    try:
        yield
    finally:
        system_site.emulator.processing_seconds = 0.0


def test_a_repeat_in_flight_never_acts_twice(system_site: SystemSite, findings: Findings) -> None:
    invoice_id = system_site.ready.owed[2]
    key = f"system-in-flight-{invoice_id}-{time.time_ns()}"
    answers: list[httpx.Response] = []

    def send() -> None:
        answers.append(
            system_site.request(
                "POST",
                f"/invoices/{invoice_id}/write_off",
                data={"comment": "in flight"},
                headers={KEY_HEADER: key},
            )
        )

    with slow_site(system_site):
        first = threading.Thread(target=send)
        first.start()
        time.sleep(0.1)
        send()
        first.join()
    acted = [a for a in answers if a.status_code == 200 and a.headers.get(REPLAYED) != "true"]
    repeats = [a for a in answers if a not in acted]
    observed = "; ".join(
        f"{a.status_code} {code_of(a) or ''} replayed={a.headers.get(REPLAYED)} "
        f"{(a.json().get('message') or '')[:60] if a.status_code != 200 else ''}".strip()
        for a in answers
    )
    if repeats and all(a.status_code == 200 for a in repeats):
        findings.skip(
            "a repeat in flight: 409 invalid_state_for_request", f"no overlap: {observed}"
        )
        assert len(acted) == 1, observed
        return
    confirmed = len(acted) == 1 and all(code_of(a) == "invalid_state_for_request" for a in repeats)
    assert findings.record(
        "a repeat in flight: 409 invalid_state_for_request", confirmed, observed
    ), observed


def test_date_between_includes_both_ends(system_site: SystemSite, findings: Findings) -> None:
    prepared = system_site.ready
    invoice = system_site.get(f"/invoices/{prepared.owed[0]}")["invoice"]
    date = invoice["date"]

    def listed(low: int, high: int) -> bool:
        page = system_site.get(
            "/invoices",
            limit=100,
            **{"customer_id[is]": prepared.customer_id, "date[between]": f"[{low},{high}]"},
        )
        return prepared.owed[0] in [entry["invoice"]["id"] for entry in page["list"]]

    low_end, high_end = listed(date, date + DAY), listed(date - DAY, date)
    observed = (
        f"from = date: {'in' if low_end else 'out'}, to = date: {'in' if high_end else 'out'}"
    )
    assert findings.record("date[between] includes both ends", low_end and high_end, observed), (
        observed
    )


def paused_later(system_site: SystemSite, findings: Findings, assumption: str) -> str:
    """The invoice in dunning that is paused and resumed (the part is skipped without one)."""
    dunning = system_site.ready.dunning
    if not dunning:
        findings.skip(assumption, system_site.ready.missing["dunning"])
        pytest.skip(system_site.ready.missing["dunning"])
    return dunning[1]


def test_resume_dunning_clears_the_expected_payment_date(
    system_site: SystemSite, findings: Findings
) -> None:
    assumption = "pause sets expected_payment_date as sent; resume clears it"
    invoice_id = paused_later(system_site, findings, assumption)
    until = int(time.time()) + 14 * DAY
    paused = system_site.post(
        f"/invoices/{invoice_id}/pause_dunning", {"expected_payment_date": str(until)}
    )["invoice"]
    resumed = system_site.post(f"/invoices/{invoice_id}/resume_dunning")["invoice"]
    observed = (
        f"paused: {paused.get('expected_payment_date')} (sent {until}); "
        f"resumed: {resumed.get('expected_payment_date')}"
    )
    confirmed = (
        paused.get("expected_payment_date") == until
        and resumed.get("expected_payment_date") is None
    )
    assert findings.record(assumption, confirmed, observed), observed


def test_never_paused_dunning_cannot_be_resumed(
    system_site: SystemSite, findings: Findings
) -> None:
    assumption = "resume_dunning on a dunning never paused: invalid_state_for_request"
    invoice_id = paused_later(system_site, findings, assumption)
    response = system_site.request("POST", f"/invoices/{invoice_id}/resume_dunning")
    observed = f"{response.status_code} {code_of(response)}"
    assert findings.record(
        assumption, code_of(response) == "invalid_state_for_request", observed
    ), observed


def test_answers_carry_only_fields_of_the_official_models(
    system_site: SystemSite, findings: Findings
) -> None:
    """Runs last: every answer the rehearsal received, walked against the official models."""
    system_site.get(f"/invoices/{system_site.ready.owed[0]}", version="v1")
    system_site.get(f"/customers/{system_site.ready.customer_id}")
    extra: set[str] = set()
    for route, answer in system_site.answers:
        v1 = "/api/v1/" in route
        for entry in answer.get("list", [answer]):
            for kind, value in entry.items():
                model: Any = v1_invoice_fields() if v1 else sdk_fields(V2_MODELS[kind])
                extra.update(path.split(".", 1)[1] for path in unknown_fields(value, model, kind))
    observed = f"{len(system_site.answers)} answers; outside the models: {sorted(extra) or 'none'}"
    assert findings.record(
        "answers carry only fields of the official models", not extra, observed
    ), observed
