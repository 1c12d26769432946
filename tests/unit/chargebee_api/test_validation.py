"""Checks on user-supplied values: each failure names the parameter."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pendulum
import pytest

from airflow_provider_cb.chargebee_api import validation
from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.action_table import ACTIONS

EPOCH = 1706695200  # 2024-01-31T10:00:00Z


def raises_for(param: str, func: Any, *args: Any, **kwargs: Any) -> ChargebeeValidationError:
    with pytest.raises(ChargebeeValidationError) as info:
        func(*args, **kwargs)
    assert info.value.param == param, str(info.value)
    return info.value


# -- check_id ----------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    ["inv_123", "INV-2024-0001", "a", "7", "a" * 50, "cus.1@x:y+z~w", "test__inv"],
)
def test_check_id_accepts(value: str) -> None:
    assert validation.check_id("my_id", value) == value


@pytest.mark.parametrize(
    "value",
    [
        "",
        " ",
        "   ",
        "a" * 51,
        "inv/1",
        "../inv",
        ".",
        "..",
        "inv?x=1",
        "inv#1",
        "inv%2F1",
        "inv%",
        "inv 1",
        " inv",
        "inv\n",
        "inv\r\n",
        "inv\x00",
        "\tinv",
        "inv\x7f",
        "ïnv",
        "inv\\1",
        "inv&x",
        "inv;x",
        "-inv",
        "_inv",
    ],
)
def test_check_id_rejects_unsafe_strings(value: str) -> None:
    raises_for("my_id", validation.check_id, "my_id", value)


@pytest.mark.parametrize("value", [None, {}, {"id": "inv_1"}, 123, ["inv_1"], b"inv_1", True])
def test_check_id_rejects_non_strings(value: Any) -> None:
    error = raises_for("invoice_id", validation.check_id, "invoice_id", value)
    assert type(value).__name__ in str(error)


# -- check_text / check_bool / header values ------------------------------------


@pytest.mark.parametrize(
    ("field", "limit"), [("comment", 300), ("invoice_note", 2000)], ids=["comment", "invoice_note"]
)
def test_text_limits_through_the_close_action(field: str, limit: int) -> None:
    close = ACTIONS["close"]
    assert close.build_body({field: "x" * limit}) == {field: "x" * limit}
    assert close.build_body({field: ""}) == {field: ""}
    error = raises_for(field, close.build_body, {field: "x" * (limit + 1)})
    assert str(limit) in str(error)


@pytest.mark.parametrize(
    "action", sorted(n for n, a in ACTIONS.items() if "comment" in a.field_names)
)
def test_comment_limit_is_300_for_every_action(action: str) -> None:
    body = {"comment": "y" * 301}
    if action == "pause_dunning":
        body["expected_payment_date"] = pendulum.now("UTC").add(days=30)  # type: ignore[assignment]
    raises_for("comment", ACTIONS[action].build_body, body)


@pytest.mark.parametrize("value", [5, ["a"], {"a": 1}, True])
def test_check_text_rejects_non_strings(value: Any) -> None:
    raises_for("comment", validation.check_text, "comment", value, 300)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("FALSE", False), (" True ", True)],
)
def test_check_bool_accepts(value: Any, expected: bool) -> None:
    assert validation.check_bool("flag", value) is expected


@pytest.mark.parametrize("value", [1, 0, "yes", "no", "1", "", None, "truthy", [True]])
def test_check_bool_rejects(value: Any) -> None:
    raises_for("flag", validation.check_bool, "flag", value)


@pytest.mark.parametrize("value", ["a\r\nb", "a\nb", "a\rb", "a\x00", "", "  ", None, 5, "x" * 251])
def test_check_header_value_rejects(value: Any) -> None:
    raises_for("origin_device", validation.check_header_value, "origin_device", value)


def test_check_header_value_ascii_only() -> None:
    assert validation.check_header_value("h", "zoë") == "zoë"
    raises_for("h", validation.check_header_value, "h", "zoë", ascii_only=True)


# -- check_timestamp -------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pendulum.datetime(2024, 1, 31, 10, tz="UTC"),
        pendulum.datetime(2024, 1, 31, 11, tz="Europe/Paris"),
        dt.datetime(2024, 1, 31, 10, tzinfo=dt.UTC),
        dt.datetime(2024, 1, 31, 15, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        "2024-01-31T10:00:00Z",
        "2024-01-31T10:00:00+00:00",
        "2024-01-31T11:00:00+01:00",
        "2024-01-31T05:00:00-05:00",
        "2024-01-31T10:00:00.750Z",
        EPOCH,
        float(EPOCH) + 0.9,
        str(EPOCH),
        f" {EPOCH} ",
    ],
)
def test_check_timestamp_to_epoch_seconds(value: Any) -> None:
    assert validation.check_timestamp("when", value) == EPOCH


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2024, 1, 31, 10),
        pendulum.naive(2024, 1, 31, 10),
        "2024-01-31T10:00:00",
        "2024-01-31",
        "2024-13-01T00:00:00Z",
        "yesterday",
        "",
        "1706695200000",
        None,
        True,
        [EPOCH],
        {"ts": EPOCH},
        dt.date(2024, 1, 31),
    ],
)
def test_check_timestamp_rejects(value: Any) -> None:
    raises_for("invoice_date", validation.check_timestamp, "invoice_date", value)


def test_naive_datetime_error_says_time_zone() -> None:
    error = raises_for(
        "invoice_date", validation.check_timestamp, "invoice_date", dt.datetime(2024, 1, 31)
    )
    assert "time zone" in str(error)


@pytest.mark.parametrize("value", [1706695200000, 10**20, float("inf"), float("nan")])
def test_check_timestamp_rejects_out_of_range_numbers(value: Any) -> None:
    raises_for("expected_payment_date", validation.check_timestamp, "expected_payment_date", value)


@pytest.mark.parametrize(
    ("when", "value", "ok"),
    [
        ("past", EPOCH - 1, True),
        ("past", EPOCH, True),
        ("past", EPOCH + 1, False),
        ("future", EPOCH + 1, True),
        ("future", EPOCH, False),
        ("future", EPOCH - 1, False),
        (None, EPOCH + 10_000, True),
        (None, EPOCH - 10_000, True),
    ],
)
def test_check_timestamp_when(when: str | None, value: int, ok: bool) -> None:
    def now() -> float:
        return float(EPOCH)

    if ok:
        assert validation.check_timestamp("d", value, when=when, now=now) == value
    else:
        raises_for("d", validation.check_timestamp, "d", value, when=when, now=now)


# -- check_notes_to_remove ---------------------------------------------------------


def test_check_notes_to_remove_accepts_list_and_tuple() -> None:
    notes = [
        {"entity_type": "subscription", "entity_id": "sub_1"},
        {"entity_type": "customer", "entity_id": "cus_9"},
    ]
    assert validation.check_notes_to_remove("notes_to_remove", notes) == notes
    assert validation.check_notes_to_remove("notes_to_remove", tuple(notes)) == notes
    assert validation.check_notes_to_remove("notes_to_remove", []) == []


def test_same_entity_id_under_different_types_is_not_a_duplicate() -> None:
    notes = [
        {"entity_type": "plan", "entity_id": "basic"},
        {"entity_type": "addon", "entity_id": "basic"},
    ]
    assert validation.check_notes_to_remove("notes_to_remove", notes) == notes


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ("customer", "notes_to_remove"),
        ({"entity_type": "customer", "entity_id": "c"}, "notes_to_remove"),
        (None, "notes_to_remove"),
        (["customer"], "notes_to_remove[0]"),
        ([{"entity_type": "customer"}], "notes_to_remove[0]"),
        ([{"entity_type": "customer", "entity_id": "c", "x": 1}], "notes_to_remove[0]"),
        (
            [
                {"entity_type": "customer", "entity_id": "c"},
                {"entity_type": "invoice", "entity_id": "i"},
            ],
            "notes_to_remove[1].entity_type",
        ),
        ([{"entity_type": "customer", "entity_id": "c/1"}], "notes_to_remove[0].entity_id"),
        ([{"entity_type": "customer", "entity_id": None}], "notes_to_remove[0].entity_id"),
        (
            [
                {"entity_type": "customer", "entity_id": "c"},
                {"entity_type": "plan", "entity_id": "p"},
                {"entity_type": "customer", "entity_id": "c"},
            ],
            "notes_to_remove[2]",
        ),
    ],
)
def test_check_notes_to_remove_rejects(value: Any, param: str) -> None:
    raises_for(param, validation.check_notes_to_remove, "notes_to_remove", value)


def test_check_notes_to_remove_rejects_unhashable_entity_type() -> None:
    raises_for(
        "notes_to_remove[0].entity_type",
        validation.check_notes_to_remove,
        "notes_to_remove",
        [{"entity_type": ["customer"], "entity_id": "c"}],
    )


# -- check_invoice_ids ---------------------------------------------------------------


@pytest.mark.parametrize("value", [["inv_1", "inv_2"], ("inv_1",), ["a" * 50]])
def test_check_invoice_ids_accepts(value: Any) -> None:
    assert validation.check_invoice_ids("invoice_ids", value) == list(value)


@pytest.mark.parametrize(
    ("value", "param"),
    [
        ("inv_1", "invoice_ids"),
        ("inv_1,inv_2", "invoice_ids"),
        ({"inv_1": 1}, "invoice_ids"),
        (None, "invoice_ids"),
        ({"inv_1"}, "invoice_ids"),
        (["inv_1", "inv/2"], "invoice_ids[1]"),
        (["inv_1", None], "invoice_ids[1]"),
        (["inv_1", "inv_2", "inv_1"], "invoice_ids[2]"),
    ],
)
def test_check_invoice_ids_rejects(value: Any, param: str) -> None:
    error = raises_for(param, validation.check_invoice_ids, "invoice_ids", value)
    if param == "invoice_ids[2]":
        assert "more than once" in str(error)
