"""The action table: versions, paths, bodies and the states each action acts on."""

from __future__ import annotations

from typing import Any

import pendulum
import pytest

from airflow_provider_cb.chargebee_api.encoding import encode_form
from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.action_table import (
    ACTIONS,
    CLOSED_STATUSES,
    InvoiceState,
    describe_invoice_state,
    is_dunning_paused,
    money_and_date,
)
from airflow_provider_cb.invoicing.outcomes import classify, judge


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
    # Shaped as Chargebee's Invoice object: no auto_collection (it lives on the customer
    # or the subscription), linked_payments[].txn_status for a payment still running.
    "pending": {"id": "inv_p", "status": "pending"},
    "due": {"id": "inv_d", "status": "payment_due", "dunning_status": "in_progress"},
    "due_paying": {
        "id": "inv_o",
        "status": "payment_due",
        "linked_payments": [{"txn_id": "txn_1", "txn_status": "in_progress"}],
    },
    "due_paused": {
        "id": "inv_z",
        "status": "payment_due",
        "dunning_status": "in_progress",
        "expected_payment_date": 1900000000,
    },
    "not_paid": {"id": "inv_n", "status": "not_paid"},
    "posted": {"id": "inv_s", "status": "posted"},
    "paid": {"id": "inv_y", "status": "paid", "write_off_amount": 0},
    "voided": {"id": "inv_v", "status": "voided"},
    "written_off": {"id": "inv_w", "status": "paid", "write_off_amount": 1000},
    "dunning_stopped": {"id": "inv_t", "status": "not_paid", "dunning_status": "stopped"},
}

W, A, N, F = "would_act", "already_done", "not_eligible", "failed"
# A customer's payment is no write-off, and dunning exhausted is no stop: the evidence of
# "already done" is the action's own effect, not a status reached some other way. A
# dunning never paused is no resumed one. A payment in progress blocks a write-off.
#                      pending due paying paused not_paid posted paid voided w_off stopped
EXPECTED = {
    "close": (W, A, A, A, A, A, A, N, A, A),
    "collect": (W, A, A, A, A, A, A, N, A, A),
    "write_off": (N, W, F, W, W, W, N, N, A, W),
    "stop_dunning": (N, W, W, W, N, N, N, N, N, A),
    "pause_dunning": (N, W, W, A, N, N, N, N, N, N),
    "resume_dunning": (N, N, N, W, N, N, N, N, N, N),
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
    assert (entry.effect_readable and entry.done_when.matches(invoice)) is (outcome == A)
    if outcome == N:
        assert not entry.acts_on.matches(invoice)
    if outcome in (W, F):
        assert entry.acts_on.matches(invoice)


@pytest.mark.parametrize(
    ("state", "invoice", "expected"),
    [
        (InvoiceState(frozenset({"pending"})), {"status": "pending"}, True),
        (InvoiceState(frozenset({"pending"})), {"status": "paid"}, False),
        (InvoiceState(frozenset({"pending"})), {}, False),
        (InvoiceState(CLOSED_STATUSES), {"status": "posted"}, True),
        (
            InvoiceState(frozenset({"payment_due"}), dunning_paused=True),
            INVOICES["due_paused"],
            True,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), dunning_paused=True),
            INVOICES["due"],
            False,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), dunning_paused=False),
            INVOICES["due_paused"],
            False,
        ),
        (
            InvoiceState(frozenset({"payment_due"}), dunning_paused=False),
            INVOICES["due"],
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
        (INVOICES["due"], False),
        ({"status": "payment_due", "expected_payment_date": None}, False),
        ({"status": "not_paid", "expected_payment_date": 1900000000}, False),
    ],
)
def test_is_dunning_paused(invoice: dict[str, Any], paused: bool) -> None:
    assert is_dunning_paused(invoice) is paused


def test_describe_state_and_invoice() -> None:
    state = ACTIONS["pause_dunning"].acts_on
    assert state.describe() == "status payment_due, dunning not paused"
    text = describe_invoice_state(INVOICES["due_paused"])
    assert "status payment_due" in text
    assert "dunning paused" in text
    assert "a payment in progress" in describe_invoice_state(INVOICES["due_paying"])


def test_no_rule_reads_auto_collection_from_the_invoice() -> None:
    """Chargebee's Invoice object has no auto_collection (SDK InvoiceResponse, v1 spec):
    tried as a new user would, every payment_due invoice previewed not_eligible."""
    for name in ("stop_dunning", "pause_dunning"):
        action = ACTIONS[name]
        outcome, note = judge(action, INVOICES["due"])
        assert (outcome, note) == (
            W,
            "Chargebee checks auto collection on the customer or subscription",
        )
        assert judge(action, {**INVOICES["due"], "auto_collection": "off"})[0] == W


@pytest.mark.parametrize(
    ("stored", "outcome"),
    [
        (4_000_000_000, A),
        (4_000_000_000 + 59, A),  # another second
        (4_000_000_000 - 12 * 3600, A),  # another time of day
        (4_000_000_000 + 3 * 86_400, N),  # another day: another pause
    ],
)
def test_a_pause_reads_as_the_same_when_chargebee_moves_its_time_of_day(
    stored: int, outcome: str
) -> None:
    invoice = {"id": "inv_1", "status": "payment_due", "expected_payment_date": stored}
    body = {"expected_payment_date": 4_000_000_000}
    assert judge(ACTIONS["pause_dunning"], invoice, body)[0] == outcome


def test_records_read_v1_answers_under_v2_names() -> None:
    """collect answers in v1's shape: amount, end_date; no total, date or write_off_amount."""
    v1 = {
        "id": "inv_1",
        "status": "paid",
        "amount": 1250,
        "amount_due": 0,
        "amount_paid": 1250,
        "currency_code": "EUR",
        "start_date": 10,
        "end_date": 20,
        "customer_id": "cus_1",
    }
    assert money_and_date(v1, "v1") == {
        "customer_id": "cus_1",
        "currency_code": "EUR",
        "total": 1250,
        "amount_due": 0,
        "invoice_date": 20,
    }
    v2 = {"total": 1250, "date": 20, "write_off_amount": 0}
    assert money_and_date(v2, "v2")["total"] == 1250
    assert money_and_date(v2, "v2")["invoice_date"] == 20
