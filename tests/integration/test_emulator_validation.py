"""The emulator decodes form bodies as Chargebee does and answers 400 to values it refuses."""

from __future__ import annotations

import time

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import DAY, act, assert_error


def test_chunked_bodies_are_refused(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    response = http.post("/api/v2/invoices/inv_1/close", content=iter([b"comment=hi"]))
    assert_error(response, 400, "invalid_request")
    assert emulator.count_applied() == 0
    assert act(http, "close", "inv_1").status_code == 200


def test_notes_to_remove_decodes_nested_arrays(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    notes = [
        {"note": "general note"},
        {"note": "from sub", "entity_type": "subscription", "entity_id": "sub_1"},
        {"note": "from customer", "entity_type": "customer", "entity_id": "cus_9"},
        {"note": "from plan", "entity_type": "plan", "entity_id": "gold"},
    ]
    emulator.add_invoice("inv_1", notes=notes)
    form = (
        "notes_to_remove[entity_type][0]=subscription&notes_to_remove[entity_id][0]=sub_1"
        "&notes_to_remove[entity_type][1]=customer&notes_to_remove[entity_id][1]=cus_9"
        "&remove_general_note=true&invoice_note=Thanks%21"
    )
    response = http.post(
        "/api/v2/invoices/inv_1/close",
        content=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["invoice"]["notes"] == [
        {"note": "from plan", "entity_type": "plan", "entity_id": "gold"},
        {"note": "Thanks!"},
    ]
    [record] = emulator.applied_actions
    assert record.params["notes_to_remove"] == [
        {"entity_type": "subscription", "entity_id": "sub_1"},
        {"entity_type": "customer", "entity_id": "cus_9"},
    ]
    assert record.params["remove_general_note"] is True


@pytest.mark.parametrize(
    ("form", "param"),
    [
        (
            "notes_to_remove[entity_type][1]=customer&notes_to_remove[entity_id][1]=c",
            "notes_to_remove",
        ),
        (
            "notes_to_remove[entity_type][0]=galaxy&notes_to_remove[entity_id][0]=g1",
            "notes_to_remove[entity_type][0]",
        ),
        ("notes_to_remove[entity_type][0]=customer", "notes_to_remove[entity_id][0]"),
        (
            "notes_to_remove[entity_type][0]=customer&notes_to_remove[entity_id][0]=" + "c" * 101,
            "notes_to_remove[entity_id][0]",
        ),
        ("notes_to_remove[colour][0]=red", "notes_to_remove[colour][0]"),
        ("comment[text][0]=hi", "comment"),
        ("remove_general_note=maybe", "remove_general_note"),
        ("invoice_date=2024-01-01T00:00:00Z", "invoice_date"),
        ("colour=red", "colour"),
        ("comment=a&comment=b", "comment"),
        ("card[first_name]=Ann", "card[first_name]"),
    ],
)
def test_bad_form_values_are_400(
    form: str, param: str, emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1")
    response = http.post(
        "/api/v2/invoices/inv_1/close",
        content=form,
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert_error(response, 400, "param_wrong_value", param)
    assert response.json()["type"] == "invalid_request"
    assert emulator.count_applied() == 0


def test_over_long_comment_is_400(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    response = act(http, "close", "inv_1", {"comment": "x" * 301})
    assert_error(response, 400, "param_wrong_value", "comment")
    assert act(http, "close", "inv_1", {"comment": "x" * 300}).status_code == 200


def test_invoice_date_must_lie_between_the_invoice_date_and_now(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    now = int(emulator.clock.now())
    emulator.add_invoice("inv_1", date=now - 10 * DAY)
    future = act(http, "close", "inv_1", {"invoice_date": now + DAY})
    assert_error(future, 400, "param_wrong_value", "invoice_date")
    too_early = act(http, "close", "inv_1", {"invoice_date": now - 11 * DAY})
    assert_error(too_early, 400, "param_wrong_value", "invoice_date")
    assert emulator.count_applied() == 0
    ok = act(http, "close", "inv_1", {"invoice_date": now - 5 * DAY})
    assert ok.json()["invoice"]["date"] == now - 5 * DAY


def test_dates_are_judged_by_the_emulator_clock(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    wall_now = int(time.time())
    emulator.add_invoice("inv_1")
    emulator.add_invoice("inv_2", status="payment_due")
    emulator.advance(3 * DAY)
    in_wall_future = act(http, "close", "inv_1", {"invoice_date": wall_now + DAY})
    assert in_wall_future.status_code == 200, in_wall_future.text
    in_emulator_past = act(
        http, "pause_dunning", "inv_2", {"expected_payment_date": wall_now + DAY}
    )
    assert_error(in_emulator_past, 400, "param_wrong_value", "expected_payment_date")


def test_expected_payment_date_must_be_in_the_future(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="payment_due")
    past = int(emulator.clock.now()) - DAY
    response = act(http, "pause_dunning", "inv_1", {"expected_payment_date": past})
    assert_error(response, 400, "param_wrong_value", "expected_payment_date")
    missing = act(http, "pause_dunning", "inv_1", {"comment": "no date"})
    assert_error(missing, 400, "param_wrong_value", "expected_payment_date")
    assert emulator.count_applied() == 0


def test_collect_takes_no_body_fields(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    assert_error(
        act(http, "collect", "inv_1", {"comment": "hi"}), 400, "param_wrong_value", "comment"
    )
