"""Listing invoices on the emulator: filters, sorting, and pages that hold while invoices change."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import DAY, act, assert_error, ids, listed


@pytest.fixture
def catalogue(emulator: ChargebeeEmulator) -> ChargebeeEmulator:
    """Six invoices with distinct statuses, customers, dates and update times."""
    base = 1_700_000_000
    rows = [
        ("inv_a", "pending", "cus_1", None, None, 0),
        ("inv_b", "payment_due", "cus_1", "sub_1", "in_progress", 1),
        ("inv_c", "payment_due", "cus_2", "sub_2", "exhausted", 2),
        ("inv_d", "not_paid", "cus_2", None, "stopped", 3),
        ("inv_e", "posted", "cus_1", "sub_1", None, 4),
        ("inv_f", "paid", "cus_3", None, "success", 5),
    ]
    for invoice_id, status, customer, sub, dunning, day in rows:
        emulator.add_invoice(
            invoice_id,
            status=status,
            customer_id=customer,
            subscription_id=sub,
            dunning_status=dunning,
            date=base + day * DAY,
        )
        emulator.advance(10)
    return emulator


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status[is]": "payment_due"}, ["inv_b", "inv_c"]),
        ({"status[is_not]": "payment_due"}, ["inv_a", "inv_d", "inv_e", "inv_f"]),
        ({"status[in]": '["pending","posted"]'}, ["inv_a", "inv_e"]),
        ({"status[not_in]": '["pending","posted","paid"]'}, ["inv_b", "inv_c", "inv_d"]),
        ({"id[is]": "inv_c"}, ["inv_c"]),
        ({"id[in]": '["inv_f","inv_a","inv_zz"]'}, ["inv_a", "inv_f"]),
        ({"customer_id[is]": "cus_2"}, ["inv_c", "inv_d"]),
        ({"subscription_id[is]": "sub_1"}, ["inv_b", "inv_e"]),
        ({"dunning_status[is]": "stopped"}, ["inv_d"]),
        ({"dunning_status[in]": '["in_progress","exhausted"]'}, ["inv_b", "inv_c"]),
        ({"date[after]": 1_700_000_000 + 3 * DAY}, ["inv_e", "inv_f"]),
        ({"date[before]": 1_700_000_000 + 2 * DAY}, ["inv_a", "inv_b"]),
        ({"date[on]": 1_700_000_000 + 2 * DAY + 3600}, ["inv_c"]),
        (
            {"date[between]": f"[{1_700_000_000 + DAY},{1_700_000_000 + 3 * DAY}]"},
            ["inv_b", "inv_c", "inv_d"],
        ),
        ({"status[is]": "payment_due", "customer_id[is]": "cus_1"}, ["inv_b"]),
    ],
)
def test_list_filters(
    params: dict[str, Any], expected: list[str], catalogue: ChargebeeEmulator, http: httpx.Client
) -> None:
    assert ids(listed(http, limit=100, **params)) == expected


def test_list_filters_on_updated_at(catalogue: ChargebeeEmulator, http: httpx.Client) -> None:
    updated = {inv["id"]: inv["updated_at"] for inv in catalogue.invoices()}
    assert ids(listed(http, **{"updated_at[after]": updated["inv_d"]})) == ["inv_e", "inv_f"]
    assert ids(listed(http, **{"updated_at[before]": updated["inv_b"]})) == ["inv_a"]
    window = f"[{updated['inv_b']},{updated['inv_c']}]"
    assert ids(listed(http, **{"updated_at[between]": window})) == ["inv_b", "inv_c"]


def test_list_sorting(catalogue: ChargebeeEmulator, http: httpx.Client) -> None:
    everything = ["inv_a", "inv_b", "inv_c", "inv_d", "inv_e", "inv_f"]
    assert ids(listed(http)) == everything
    assert ids(listed(http, **{"sort_by[asc]": "date"})) == everything
    assert ids(listed(http, **{"sort_by[desc]": "date"})) == everything[::-1]
    act(http, "write_off", "inv_b")
    assert ids(listed(http, **{"sort_by[desc]": "updated_at"}))[0] == "inv_b"
    assert ids(listed(http, **{"sort_by[asc]": "updated_at"}))[-1] == "inv_b"


@pytest.mark.parametrize(
    ("params", "param"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 101}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"status[in]": "pending"}, "status[in]"),
        ({"status[in]": "[]"}, "status[in]"),
        ({"status[is]": "lost"}, "status[is]"),
        ({"date[between]": "[3,1]"}, "date[between]"),
        ({"date[after]": "yesterday"}, "date[after]"),
        ({"amount[gt]": 5}, "amount[gt]"),
        ({"status[starts_with]": "p"}, "status[starts_with]"),
        ({"colour": "red"}, "colour"),
        ({"sort_by[asc]": "id"}, "sort_by[asc]"),
        ({"sort_by[asc]": "date", "sort_by[desc]": "date"}, "sort_by[desc]"),
        ({"offset": "not-an-offset"}, "offset"),
    ],
)
def test_bad_list_parameters_are_400(
    params: dict[str, Any], param: str, catalogue: ChargebeeEmulator, http: httpx.Client
) -> None:
    assert_error(listed(http, **params), 400, "param_wrong_value", param)


def test_default_limit_is_10(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(12)
    response = listed(http)
    assert len(ids(response)) == 10
    assert "next_offset" in response.json()


def test_offset_from_another_sort_order_is_refused(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(3)
    offset = listed(http, limit=1).json()["next_offset"]
    assert_error(
        listed(http, limit=1, offset=offset, **{"sort_by[desc]": "date"}),
        400,
        "param_wrong_value",
        "offset",
    )


def page_through(http: httpx.Client, between_pages: Any = None, **params: Any) -> list[str]:
    seen: list[str] = []
    offset = None
    while True:
        query = dict(params, limit=100)
        if offset is not None:
            query["offset"] = offset
        response = listed(http, **query)
        page = ids(response)
        seen.extend(page)
        offset = response.json().get("next_offset")
        if offset is None:
            return seen
        if between_pages is not None:
            between_pages(page)


def test_pagination_returns_every_id_once(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    expected = emulator.seed(250)
    assert page_through(http) == expected
    assert page_through(http, **{"sort_by[desc]": "date"}) == expected[::-1]


def test_pagination_is_stable_while_invoices_change(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    pending = emulator.seed(250)
    closed_ahead: list[str] = []

    def close_some(page: list[str]) -> None:
        for invoice_id in page:
            assert act(http, "close", invoice_id).status_code == 200
        upcoming = pending.index(page[-1]) + 1
        for invoice_id in pending[upcoming : upcoming + 5]:
            assert act(http, "close", invoice_id).status_code == 200
            closed_ahead.append(invoice_id)

    seen = page_through(http, close_some, **{"status[is]": "pending"})
    assert len(seen) == len(set(seen))
    assert sorted(seen + closed_ahead) == pending
    assert len(closed_ahead) == 10
