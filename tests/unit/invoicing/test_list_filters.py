"""encode_filters: friendly listing filters -> Chargebee query parameters."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pendulum
import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.invoicing.list_filters import encode_filters

JAN = pendulum.datetime(2024, 1, 1, tz="UTC")
FEB = pendulum.datetime(2024, 2, 1, tz="UTC")
JAN_TS = 1704067200
FEB_TS = 1706745600


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, {}),
        ({"status": None}, {}),
        ({"status": "pending"}, {"status[is]": "pending"}),
        ({"dunning_status": "in_progress"}, {"dunning_status[is]": "in_progress"}),
        ({"customer_id": "cus_1"}, {"customer_id[is]": "cus_1"}),
        ({"subscription_id": "sub_1"}, {"subscription_id[is]": "sub_1"}),
        ({"status": {"is_not": "voided"}}, {"status[is_not]": "voided"}),
        ({"customer_id": {"is_not": "cus_2"}}, {"customer_id[is_not]": "cus_2"}),
        ({"date": {"after": JAN}}, {"date[after]": str(JAN_TS)}),
        ({"date": {"before": "2024-02-01T00:00:00Z"}}, {"date[before]": str(FEB_TS)}),
        ({"date": {"on": JAN_TS}}, {"date[on]": str(JAN_TS)}),
        ({"updated_at": {"after": str(JAN_TS)}}, {"updated_at[after]": str(JAN_TS)}),
        ({"sort_by": "date"}, {"sort_by[asc]": "date"}),
        ({"sort_by": "-date"}, {"sort_by[desc]": "date"}),
        ({"sort_by": "updated_at"}, {"sort_by[asc]": "updated_at"}),
        ({"sort_by": "-updated_at"}, {"sort_by[desc]": "updated_at"}),
        ({"sort_by": None}, {}),
    ],
)
def test_plain_filters(filters: dict[str, Any], expected: dict[str, str]) -> None:
    assert encode_filters(filters) == expected


@pytest.mark.parametrize(
    ("filters", "key", "values"),
    [
        ({"status": ["pending", "posted"]}, "status[in]", ["pending", "posted"]),
        ({"status": ("payment_due",)}, "status[in]", ["payment_due"]),
        ({"status": {"in": ["paid"]}}, "status[in]", ["paid"]),
        ({"status": {"not_in": ["voided", "paid"]}}, "status[not_in]", ["voided", "paid"]),
        ({"id": ["inv_1", "inv_2"]}, "id[in]", ["inv_1", "inv_2"]),
        (
            {"dunning_status": ["stopped", "exhausted"]},
            "dunning_status[in]",
            ["stopped", "exhausted"],
        ),
    ],
)
def test_in_lists_are_json_array_text(filters: dict[str, Any], key: str, values: list[str]) -> None:
    query = encode_filters(filters)
    assert list(query) == [key]
    assert query[key].startswith("[")
    assert json.loads(query[key]) == values


def test_set_becomes_in_list() -> None:
    query = encode_filters({"status": {"pending", "posted"}})
    assert sorted(json.loads(query["status[in]"])) == ["pending", "posted"]


@pytest.mark.parametrize(
    "pair",
    [
        (JAN, FEB),
        [JAN, FEB],
        (dt.datetime(2024, 1, 1, tzinfo=dt.UTC), dt.datetime(2024, 2, 1, tzinfo=dt.UTC)),
        ("2024-01-01T00:00:00Z", "2024-02-01T01:00:00+01:00"),
        (JAN_TS, FEB_TS),
    ],
)
def test_date_between_is_a_json_epoch_pair(pair: Any) -> None:
    query = encode_filters({"date": {"between": pair}})
    assert json.loads(query["date[between]"]) == [JAN_TS, FEB_TS]


def test_between_same_instant_is_allowed() -> None:
    query = encode_filters({"updated_at": {"between": (JAN, JAN)}})
    assert json.loads(query["updated_at[between]"]) == [JAN_TS, JAN_TS]


def test_several_filters_and_operators_together() -> None:
    query = encode_filters(
        {
            "status": ["payment_due", "not_paid"],
            "date": {"after": JAN, "before": FEB},
            "customer_id": "cus_1",
            "sort_by": "-date",
        }
    )
    assert query == {
        "status[in]": '["payment_due","not_paid"]',
        "date[after]": str(JAN_TS),
        "date[before]": str(FEB_TS),
        "customer_id[is]": "cus_1",
        "sort_by[desc]": "date",
    }


@pytest.mark.parametrize(
    ("filters", "param"),
    [
        ({"date": {"between": (FEB, JAN)}}, "date[between]"),
        ({"date": {"between": (JAN,)}}, "date[between]"),
        ({"date": {"between": (JAN, FEB, FEB)}}, "date[between]"),
        ({"date": {"between": "2024-01-01T00:00:00Z"}}, "date[between]"),
        ({"date": {"after": dt.datetime(2024, 1, 1)}}, "date[after]"),
        ({"date": {"after": "2024-01-01"}}, "date[after]"),
        ({"date": JAN}, "date"),
        ({"updated_at": [JAN, FEB]}, "updated_at"),
        ({"date": {"is": JAN}}, "date[is]"),
        ({"status": {"between": ["paid", "pending"]}}, "status[between]"),
        ({"status": {"after": "paid"}}, "status[after]"),
        ({"customer_id": {"like": "cus"}}, "customer_id[like]"),
        ({"amount_due": {"gt": 100}}, "amount_due"),
        ({"stauts": "pending"}, "stauts"),
        ({"limit": 5}, "limit"),
        ({"status": "open"}, "status"),
        ({"status": "Pending"}, "status"),
        ({"status": ["pending", "closed"]}, "status"),
        ({"dunning_status": "paused"}, "dunning_status"),
        ({"status": []}, "status[in]"),
        ({"status": {"in": "pending"}}, "status[in]"),
        ({"customer_id": "cus/1"}, "customer_id"),
        ({"id": ["inv_1", "inv?2"]}, "id"),
        ({"sort_by": "amount"}, "sort_by"),
        ({"sort_by": "-status"}, "sort_by"),
        # An empty filter would select every invoice: refused, never dropped.
        ({"date": {}}, "date"),
        ({"status": {}}, "status"),
        ({"customer_id": {}}, "customer_id"),
        ({"subscription_id": {}}, "subscription_id"),
        ({"dunning_status": {}}, "dunning_status"),
        ({"status": ""}, "status"),
        ({"customer_id": ""}, "customer_id"),
        ({"customer_id": []}, "customer_id[in]"),
        ({"date": {"before": ""}}, "date[before]"),
        ({"date": {"after": None}}, "date[after]"),
    ],
)
def test_rejects(filters: dict[str, Any], param: str) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        encode_filters(filters)
    assert info.value.param == param
