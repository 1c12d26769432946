"""Form encoding and the optional request headers."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

import pytest

from airflow_provider_cb.chargebee_api.encoding import (
    EVENT_SKIP_HEADERS,
    RequestOrigin,
    encode_form,
    normalise_skip_events,
)
from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"comment": "month end"}, [("comment", "month end")]),
        ({"invoice_date": 1706695200}, [("invoice_date", "1706695200")]),
        ({"amount": 12.5}, [("amount", "12.5")]),
        ({"remove_general_note": True}, [("remove_general_note", "true")]),
        ({"remove_general_note": False}, [("remove_general_note", "false")]),
        ({"comment": None}, []),
        ({"comment": None, "x": "1"}, [("x", "1")]),
        ({}, []),
        (
            {"card": {"first_name": "Ann", "last_name": None, "primary": True}},
            [("card[first_name]", "Ann"), ("card[primary]", "true")],
        ),
        ({"ids": ["a", "b"]}, [("ids[0]", "a"), ("ids[1]", "b")]),
        ({"ids": ("a", 2, False)}, [("ids[0]", "a"), ("ids[1]", "2"), ("ids[2]", "false")]),
        (
            {
                "notes_to_remove": [
                    {"entity_type": "subscription", "entity_id": "sub_1"},
                    {"entity_type": "customer", "entity_id": "cus_9"},
                ]
            },
            [
                ("notes_to_remove[entity_type][0]", "subscription"),
                ("notes_to_remove[entity_id][0]", "sub_1"),
                ("notes_to_remove[entity_type][1]", "customer"),
                ("notes_to_remove[entity_id][1]", "cus_9"),
            ],
        ),
        (
            {"lines": [{"a": 1, "b": None}, {"a": True}]},
            [("lines[a][0]", "1"), ("lines[a][1]", "true")],
        ),
    ],
)
def test_encode_form(params: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert encode_form(params) == expected


def test_encode_form_wire_text_matches_the_documented_example() -> None:
    pairs = encode_form(
        {
            "notes_to_remove": [
                {"entity_type": "subscription", "entity_id": "sub_1"},
                {"entity_type": "customer", "entity_id": "cus_9"},
            ]
        }
    )
    text = urlencode(pairs, safe="[]")
    assert text == (
        "notes_to_remove[entity_type][0]=subscription&notes_to_remove[entity_id][0]=sub_1"
        "&notes_to_remove[entity_type][1]=customer&notes_to_remove[entity_id][1]=cus_9"
    )


def test_encode_form_never_sends_none_text() -> None:
    pairs = encode_form({"ids": ["a", None]})
    assert all(value != "None" for _, value in pairs)


# -- skip_events ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, set()),
        ("", set()),
        ("webhook", {"webhook"}),
        ("webhook,email", {"webhook", "email"}),
        (" webhook , email ,", {"webhook", "email"}),
        (["actions"], {"actions"}),
        (("email", "webhook"), {"email", "webhook"}),
        ({"webhook", "email", "actions"}, {"webhook", "email", "actions"}),
        (frozenset({"email"}), {"email"}),
        (["email", "email"], {"email"}),
    ],
)
def test_normalise_skip_events(value: Any, expected: set[str]) -> None:
    assert normalise_skip_events(value) == frozenset(expected)


@pytest.mark.parametrize(
    "value",
    ["webhooks", "webhook,sms", ["webhook", "all"], {"Email"}, [1], 1, True, {"webhook": 1}, b"x"],
)
def test_normalise_skip_events_rejects(value: Any) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        normalise_skip_events(value)
    assert info.value.param == "skip_events"


def test_normalise_skip_events_rejects_nested_list() -> None:
    with pytest.raises(ChargebeeValidationError):
        normalise_skip_events([["webhook"]])


# -- RequestOrigin headers ------------------------------------------------------


def test_ascii_origin_user_is_a_plain_header() -> None:
    headers = RequestOrigin(origin_user="ann@example.com").headers()
    assert headers == {"chargebee-request-origin-user": "ann@example.com"}


def test_non_ascii_origin_user_is_base64_encoded_only() -> None:
    user = "zoë@exämple.com"
    headers = RequestOrigin(origin_user=user).headers()
    assert "chargebee-request-origin-user" not in headers
    encoded = headers["chargebee-request-origin-user-encoded"]
    assert encoded.isascii()
    assert base64.b64decode(encoded).decode("utf-8") == user


def test_ip_and_device_headers() -> None:
    headers = RequestOrigin(origin_ip="203.0.113.7", origin_device="airflow-worker-1").headers(
        for_write=False
    )
    assert headers == {
        "chargebee-request-origin-ip": "203.0.113.7",
        "chargebee-request-origin-device": "airflow-worker-1",
    }


@pytest.mark.parametrize(
    ("api_version", "present"), [("v2", True), ("v1", False)], ids=["v2", "v1"]
)
def test_business_entity_only_on_v2(api_version: str, present: bool) -> None:
    headers = RequestOrigin(business_entity_id="be_eu").headers(api_version=api_version)
    assert ("chargebee-business-entity-id" in headers) is present
    if present:
        assert headers["chargebee-business-entity-id"] == "be_eu"


@pytest.mark.parametrize("name", sorted(EVENT_SKIP_HEADERS))
def test_each_skip_event_sets_its_header(name: str) -> None:
    headers = RequestOrigin(skip_events=name).headers(for_write=True)  # type: ignore[arg-type]
    expected_header = {
        "actions": "chargebee-event-actions",
        "webhook": "chargebee-event-webhook",
        "email": "chargebee-event-email",
    }[name]
    assert headers == {expected_header: "all-disabled"}


def test_all_skip_events_together() -> None:
    origin = RequestOrigin(skip_events="webhook,email,actions")  # type: ignore[arg-type]
    assert origin.headers() == {
        "chargebee-event-actions": "all-disabled",
        "chargebee-event-webhook": "all-disabled",
        "chargebee-event-email": "all-disabled",
    }


def test_skip_events_only_for_writes() -> None:
    origin = RequestOrigin(origin_user="ann@example.com", skip_events={"webhook"})  # type: ignore[arg-type]
    assert origin.headers(for_write=False) == {"chargebee-request-origin-user": "ann@example.com"}


def test_empty_origin_sends_no_headers() -> None:
    assert RequestOrigin().headers() == {}


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"origin_user": "ann@example.com\r\nX-Evil: 1"}, "origin_user"),
        ({"origin_user": "ann@example.com\n"}, "origin_user"),
        ({"origin_user": "not-an-email"}, "origin_user"),
        ({"origin_user": ""}, "origin_user"),
        ({"origin_user": 42}, "origin_user"),
        ({"origin_ip": "1.2.3.4\r\n"}, "origin_ip"),
        ({"origin_ip": "ïp"}, "origin_ip"),
        ({"origin_device": "dev\nice"}, "origin_device"),
        ({"origin_device": "x" * 251}, "origin_device"),
        ({"business_entity_id": "be/1"}, "business_entity_id"),
        ({"business_entity_id": "be\r\n1"}, "business_entity_id"),
        ({"skip_events": "sms"}, "skip_events"),
    ],
)
def test_origin_rejects_bad_values_naming_the_param(kwargs: dict[str, Any], param: str) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        RequestOrigin(**kwargs)
    assert info.value.param == param


def test_merged_override_wins_and_skip_events_combine() -> None:
    base = RequestOrigin(
        origin_user="ops@example.com",
        origin_ip="10.0.0.1",
        business_entity_id="be_us",
        skip_events="email",  # type: ignore[arg-type]
    )
    override = RequestOrigin(origin_user="ann@example.com", skip_events="webhook")  # type: ignore[arg-type]
    merged = base.merged(override)
    assert merged.origin_user == "ann@example.com"
    assert merged.origin_ip == "10.0.0.1"
    assert merged.origin_device is None
    assert merged.business_entity_id == "be_us"
    assert merged.skip_events == frozenset({"email", "webhook"})


def test_merged_with_empty_override_keeps_base() -> None:
    base = RequestOrigin(origin_device="dev", business_entity_id="be_us")
    assert base.merged(RequestOrigin()) == base


def test_merged_does_not_mutate_either_side() -> None:
    base = RequestOrigin(skip_events="email")  # type: ignore[arg-type]
    override = RequestOrigin(skip_events="webhook")  # type: ignore[arg-type]
    base.merged(override)
    assert base.skip_events == frozenset({"email"})
    assert override.skip_events == frozenset({"webhook"})
