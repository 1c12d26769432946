"""The action table: versions, paths, bodies and the states each action acts on."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from airflow_provider_cb.client.encoding import encode_form
from airflow_provider_cb.client.errors import ChargebeeValidationError
from airflow_provider_cb.client.invoices import (
    ACTIONS,
    CLOSED_STATUSES,
    InvoiceState,
    describe_invoice_state,
    is_dunning_paused,
)
from airflow_provider_cb.client.outcomes import classify


def future(days: int = 30) -> pendulum.DateTime:
    return pendulum.now("UTC").add(days=days)


def past(days: int = 30) -> pendulum.DateTime:
    return pendulum.now("UTC").subtract(days=days)


def test_action_names() -> None:
    assert set(ACTIONS) == {
        "close",
        "collect",
        "write_off",
        "stop_dunning",
        "pause_dunning",
        "resume_dunning",
    }


@pytest.mark.parametrize(
    ("name", "version", "endpoint"),
    [
        ("close", "v2", "close"),
        ("collect", "v1", "collect"),
        ("write_off", "v2", "write_off"),
        ("stop_dunning", "v2", "stop_dunning"),
        ("pause_dunning", "v2", "pause_dunning"),
        ("resume_dunning", "v2", "resume_dunning"),
    ],
)
def test_version_and_path(name: str, version: str, endpoint: str) -> None:
    action = ACTIONS[name]
    assert action.api_version == version
    assert action.path("inv_42") == f"/invoices/inv_42/{endpoint}"


@pytest.mark.parametrize(
    ("name", "fields"),
    [
        (
            "close",
            {"comment", "invoice_note", "remove_general_note", "invoice_date", "notes_to_remove"},
        ),
        ("collect", set()),
        ("write_off", {"comment"}),
        ("stop_dunning", {"comment"}),
        ("pause_dunning", {"comment", "expected_payment_date"}),
        ("resume_dunning", {"comment"}),
    ],
)
def test_documented_fields(name: str, fields: set[str]) -> None:
    assert set(ACTIONS[name].field_names) == fields


def test_path_escapes_allowed_punctuation() -> None:
    assert ACTIONS["close"].path("inv@x:1+2") == "/invoices/inv%40x%3A1%2B2/close"


@pytest.mark.parametrize("invoice_id", ["../x", "a/b", "a?b", "a#b", "a%2f", "", " ", None, 7])
@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_path_refuses_unsafe_ids(name: str, invoice_id: Any) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        ACTIONS[name].path(invoice_id)
    assert info.value.param == "invoice_id"


# -- build_body ---------------------------------------------------------------------


def test_build_body_drops_none() -> None:
    body = ACTIONS["close"].build_body(
        {"comment": None, "invoice_note": None, "remove_general_note": None}
    )
    assert body == {}


def test_build_body_full_close_body_encodes_as_documented() -> None:
    moment = past(2)
    body = ACTIONS["close"].build_body(
        {
            "comment": "month end",
            "invoice_note": "Thanks",
            "remove_general_note": "true",
            "invoice_date": moment.isoformat(),
            "notes_to_remove": [
                {"entity_type": "subscription", "entity_id": "sub_1"},
                {"entity_type": "customer", "entity_id": "cus_9"},
            ],
        }
    )
    assert body["remove_general_note"] is True
    assert body["invoice_date"] == int(moment.timestamp())
    assert dict(encode_form(body)) == {
        "comment": "month end",
        "invoice_note": "Thanks",
        "remove_general_note": "true",
        "invoice_date": str(int(moment.timestamp())),
        "notes_to_remove[entity_type][0]": "subscription",
        "notes_to_remove[entity_id][0]": "sub_1",
        "notes_to_remove[entity_type][1]": "customer",
        "notes_to_remove[entity_id][1]": "cus_9",
    }


@pytest.mark.parametrize(
    ("name", "values", "param"),
    [
        ("close", {"commnet": "typo"}, "commnet"),
        ("close", {"expected_payment_date": future()}, "expected_payment_date"),
        ("collect", {"comment": "x"}, "comment"),
        ("write_off", {"invoice_note": "x"}, "invoice_note"),
        (
            "pause_dunning",
            {"expected_payment_date": future(), "invoice_date": past()},
            "invoice_date",
        ),
    ],
)
def test_build_body_rejects_unknown_fields(name: str, values: dict[str, Any], param: str) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        ACTIONS[name].build_body(values)
    assert info.value.param == param


@pytest.mark.parametrize("values", [{}, {"comment": "x"}, {"expected_payment_date": None}])
def test_pause_dunning_requires_expected_payment_date(values: dict[str, Any]) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        ACTIONS["pause_dunning"].build_body(values)
    assert info.value.param == "expected_payment_date"


def test_expected_payment_date_in_the_future_is_accepted() -> None:
    moment = future(14)
    body = ACTIONS["pause_dunning"].build_body(
        {"expected_payment_date": moment, "comment": "promised"}
    )
    assert body == {"expected_payment_date": int(moment.timestamp()), "comment": "promised"}


@pytest.mark.parametrize("moment", [past(1), past(400)])
def test_expected_payment_date_in_the_past_is_rejected(moment: pendulum.DateTime) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        ACTIONS["pause_dunning"].build_body({"expected_payment_date": moment})
    assert info.value.param == "expected_payment_date"


def test_invoice_date_in_the_past_is_accepted() -> None:
    moment = past(3)
    body = ACTIONS["close"].build_body({"invoice_date": int(moment.timestamp())})
    assert body == {"invoice_date": int(moment.timestamp())}


@pytest.mark.parametrize("moment", [future(1), future(400)])
def test_invoice_date_in_the_future_is_rejected(moment: pendulum.DateTime) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        ACTIONS["close"].build_body({"invoice_date": moment})
    assert info.value.param == "invoice_date"


def test_build_body_does_not_mutate_input() -> None:
    values = {"comment": "x", "remove_general_note": "false"}
    ACTIONS["close"].build_body(values)
    assert values == {"comment": "x", "remove_general_note": "false"}


# -- states ------------------------------------------------------------------------

INVOICES: dict[str, dict[str, Any]] = {
    "pending": {"id": "inv_p", "status": "pending", "auto_collection": "on"},
    "due_auto_on": {
        "id": "inv_d",
        "status": "payment_due",
        "auto_collection": "on",
        "dunning_status": "in_progress",
    },
    "due_auto_off": {"id": "inv_o", "status": "payment_due", "auto_collection": "off"},
    "due_paused": {
        "id": "inv_z",
        "status": "payment_due",
        "auto_collection": "on",
        "dunning_status": "in_progress",
        "expected_payment_date": 1900000000,
    },
    "not_paid": {"id": "inv_n", "status": "not_paid", "auto_collection": "on"},
    "posted": {"id": "inv_s", "status": "posted", "auto_collection": "off"},
    "paid": {"id": "inv_y", "status": "paid", "auto_collection": "on", "write_off_amount": 0},
    "voided": {"id": "inv_v", "status": "voided", "auto_collection": "on"},
    "written_off": {
        "id": "inv_w",
        "status": "paid",
        "auto_collection": "on",
        "write_off_amount": 1000,
    },
    "dunning_stopped": {
        "id": "inv_t",
        "status": "not_paid",
        "auto_collection": "on",
        "dunning_status": "stopped",
    },
}

W, A, N = "would_act", "already_done", "not_eligible"
# A customer's payment is no write-off, and dunning exhausted is no stop: the evidence of
# "already done" is the action's own effect, not a status reached some other way.
#                      pending due_on due_off paused not_paid posted paid voided w_off stopped
EXPECTED = {
    "close": (W, A, A, A, A, A, A, N, A, A),
    "collect": (W, A, A, A, A, A, A, N, A, A),
    "write_off": (N, W, W, W, W, W, N, N, A, W),
    "stop_dunning": (N, W, N, W, N, N, N, N, N, A),
    "pause_dunning": (N, W, N, A, N, N, N, N, N, N),
    "resume_dunning": (N, A, A, W, N, N, N, N, N, N),
}


CASES = [
    pytest.param(action, invoice_name, outcome, id=f"{action}-{invoice_name}")
    for action, outcomes in EXPECTED.items()
    for invoice_name, outcome in zip(INVOICES, outcomes, strict=True)
]


@pytest.mark.parametrize(("action", "invoice_name", "outcome"), CASES)
def test_classify(action: str, invoice_name: str, outcome: str) -> None:
    assert classify(ACTIONS[action], INVOICES[invoice_name]) == outcome


@pytest.mark.parametrize(("action", "invoice_name", "outcome"), CASES)
def test_acts_on_and_done_when_agree_with_classify(
    action: str, invoice_name: str, outcome: str
) -> None:
    entry = ACTIONS[action]
    invoice = INVOICES[invoice_name]
    assert entry.done_when.matches(invoice) is (outcome == A)
    if outcome == N:
        assert not entry.acts_on.matches(invoice)
    if outcome == W:
        assert entry.acts_on.matches(invoice)


@pytest.mark.parametrize(
    ("state", "invoice", "expected"),
    [
        (InvoiceState(frozenset({"pending"})), {"status": "pending"}, True),
        (InvoiceState(frozenset({"pending"})), {"status": "paid"}, False),
        (InvoiceState(frozenset({"pending"})), {}, False),
        (InvoiceState(CLOSED_STATUSES), {"status": "posted"}, True),
        (
            InvoiceState(frozenset({"payment_due"}), auto_collection_on=True),
            INVOICES["due_auto_on"],
            True,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), auto_collection_on=True),
            INVOICES["due_auto_off"],
            False,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), auto_collection_on=False),
            INVOICES["due_auto_off"],
            True,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), auto_collection_on=False),
            INVOICES["due_auto_on"],
            False,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), dunning_paused=True),
            INVOICES["due_paused"],
            True,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), dunning_paused=True),
            INVOICES["due_auto_on"],
            False,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), dunning_paused=False),
            INVOICES["due_paused"],
            False,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), dunning_paused=False),
            INVOICES["due_auto_on"],
            True,
        ),
    ],
)
def test_invoice_state_matches(
    state: InvoiceState, invoice: dict[str, Any], expected: bool
) -> None:
    assert state.matches(invoice) is expected


@pytest.mark.parametrize(
    ("invoice", "paused"),
    [
        (INVOICES["due_paused"], True),
        (INVOICES["due_auto_on"], False),
        ({"status": "payment_due", "expected_payment_date": None}, False),
        ({"status": "not_paid", "expected_payment_date": 1900000000}, False),
    ],
)
def test_is_dunning_paused(invoice: dict[str, Any], paused: bool) -> None:
    assert is_dunning_paused(invoice) is paused


def test_describe_state_and_invoice() -> None:
    state = ACTIONS["pause_dunning"].acts_on
    assert state.describe() == "status payment_due, auto collection on, dunning not paused"
    text = describe_invoice_state(INVOICES["due_paused"])
    assert "status payment_due" in text
    assert "dunning paused" in text
    assert "auto collection on" in text
