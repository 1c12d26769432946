"""The Chargebee emulator, exercised over real HTTP with httpx."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from airflow_provider_cb.client.invoices import ACTIONS
from airflow_provider_cb.testing import FAULT_KINDS, ChargebeeEmulator

KEY = "test_key"
DAY = 86_400


@pytest.fixture
def emulator(
    chargebee_mock_emulator: ChargebeeEmulator, request: pytest.FixtureRequest
) -> Iterator[ChargebeeEmulator]:
    """Answers in process; a test marked ``loopback`` gets it listening on 127.0.0.1 too."""
    if request.node.get_closest_marker("loopback") is None:
        yield chargebee_mock_emulator
        return
    with chargebee_mock_emulator:
        yield chargebee_mock_emulator


@pytest.fixture
def http(emulator: ChargebeeEmulator) -> Iterator[httpx.Client]:
    transport = emulator.mock_transport()
    with httpx.Client(
        base_url="http://emulator", transport=transport, auth=(KEY, ""), timeout=10
    ) as client:
        yield client


def act(
    http: httpx.Client,
    endpoint: str,
    invoice_id: str,
    data: dict[str, Any] | None = None,
    *,
    version: str | None = None,
    key: str | None = None,
) -> httpx.Response:
    """POST an action on the API version the action table gives it (or the one asked)."""
    action = next((a for a in ACTIONS.values() if a.endpoint == endpoint), None)
    api = version or (action.api_version if action else "v2")
    headers = {"chargebee-idempotency-key": key} if key is not None else {}
    return http.post(f"/api/{api}/invoices/{invoice_id}/{endpoint}", data=data, headers=headers)


def listed(http: httpx.Client, **params: Any) -> httpx.Response:
    return http.get("/api/v2/invoices", params=params)


def ids(response: httpx.Response) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["invoice"]["id"] for item in response.json()["list"]]


def assert_error(
    response: httpx.Response, status: int, code: str, param: str | None = None
) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    body = response.json()
    assert body["api_error_code"] == code
    assert body["error_code"] == code
    assert body["http_status_code"] == status
    assert body["message"]
    if param is not None:
        assert body["param"] == param


# Package surface


def test_importing_the_package_does_not_import_airflow() -> None:
    code = "import sys, airflow_provider_cb.testing; print('airflow' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_connection_env_fixture_points_at_the_emulator(
    chargebee_conn_env: ChargebeeEmulator,
) -> None:
    connection = json.loads(os.environ["AIRFLOW_CONN_CHARGEBEE_DEFAULT"])
    assert connection == {
        "conn_type": "chargebee",
        "host": "acme",
        "password": KEY,
        "extra": {"base_url": chargebee_conn_env.base_url},
    }
    assert chargebee_conn_env.base_url.startswith("http://127.0.0.1:")


def test_refuses_a_non_loopback_host() -> None:
    with pytest.raises(ValueError, match="loopback"):
        ChargebeeEmulator(host="0.0.0.0")


def test_seed_pads_ids_and_invoice_returns_a_copy(emulator: ChargebeeEmulator) -> None:
    assert emulator.seed(3, status="payment_due", start=9) == [
        "inv_000009",
        "inv_000010",
        "inv_000011",
    ]
    copy = emulator.invoice("inv_000009")
    copy["status"] = "paid"
    assert emulator.invoice("inv_000009")["status"] == "payment_due"
    assert [inv["id"] for inv in emulator.invoices()] == ["inv_000009", "inv_000010", "inv_000011"]
    with pytest.raises(ValueError, match="already exists"):
        emulator.add_invoice("inv_000009")


def test_stop_closes_kept_alive_connections() -> None:
    emulator = ChargebeeEmulator().start()
    emulator.seed(1)
    with httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=5) as client:
        assert client.get("/api/v2/invoices/inv_000001").status_code == 200
        emulator.stop()
        with pytest.raises(httpx.TransportError):
            client.get("/api/v2/invoices/inv_000001")


# Authentication and the request log


@pytest.mark.loopback
@pytest.mark.parametrize(
    "auth",
    [None, ("wrong_key", ""), (KEY, "a-password"), ("", KEY)],
    ids=["missing", "wrong-key", "with-password", "key-as-password"],
)
def test_bad_credentials_get_401(emulator: ChargebeeEmulator, auth: tuple[str, str] | None) -> None:
    emulator.seed(1)
    response = httpx.post(
        f"{emulator.base_url}/api/v2/invoices/inv_000001/close", auth=auth, timeout=5
    )
    assert_error(response, 401, "api_authentication_failed")
    assert emulator.count_applied() == 0


@pytest.mark.loopback
def test_auth_is_checked_before_routing(emulator: ChargebeeEmulator) -> None:
    response = httpx.get(f"{emulator.base_url}/no/such/path", auth=("wrong", ""), timeout=5)
    assert_error(response, 401, "api_authentication_failed")


@pytest.mark.loopback
def test_request_log_never_keeps_the_api_key(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    origin = {"chargebee-request-origin-user": "ann@example.com"}
    http.get("/api/v2/invoices/inv_000001", headers=origin)
    httpx.get(f"{emulator.base_url}/api/v2/invoices", auth=("wrong_key", ""), timeout=5)
    first, second = emulator.requests
    assert (first.method, first.path, first.status) == ("GET", "/api/v2/invoices/inv_000001", 200)
    assert first.headers == {"chargebee-request-origin-user": "ann@example.com"}
    assert second.status == 401
    logged = repr(emulator.requests.snapshot())
    for secret in (KEY, base64.b64encode(f"{KEY}:".encode()).decode(), "wrong_key"):
        assert secret not in logged
    assert "authorization" not in logged.lower()
    emulator.reset_log()
    assert len(emulator.requests) == 0


# Actions: happy paths and wrong states

SCENARIOS: dict[str, tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = {
    "close": (
        {"status": "pending"},
        {"comment": "month end"},
        {"status": "payment_due", "dunning_status": "in_progress"},
    ),
    "collect": ({"status": "pending"}, {}, {"status": "payment_due"}),
    "write_off": (
        {"status": "payment_due"},
        {"comment": "old debt"},
        {"status": "paid", "amount_due": 0},
    ),
    "stop_dunning": (
        {"status": "payment_due", "dunning_status": "in_progress"},
        {"comment": "talked to them"},
        {"status": "not_paid", "dunning_status": "stopped"},
    ),
    "pause_dunning": ({"status": "payment_due"}, {"expected_payment_date": "FUTURE"}, {}),
    "resume_dunning": (
        {"status": "payment_due", "expected_payment_date": 2_000_000_000},
        {},
        {"status": "payment_due", "dunning_status": "in_progress"},
    ),
}


def test_every_action_has_a_scenario() -> None:
    assert set(SCENARIOS) == set(ACTIONS)


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_action_happy_path(name: str, emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    setup, data, expected = SCENARIOS[name]
    before = emulator.add_invoice("inv_1", **setup)
    future = int(emulator.clock.now()) + 10 * DAY
    data = {k: (future if v == "FUTURE" else v) for k, v in data.items()}
    emulator.advance(5)

    response = act(http, ACTIONS[name].endpoint, "inv_1", data, key=f"k-{name}")

    assert response.status_code == 200, response.text
    invoice = response.json()["invoice"]
    for field, value in expected.items():
        assert invoice[field] == value
    if ACTIONS[name].api_version == "v2":
        assert invoice == emulator.invoice("inv_1")
    assert ACTIONS[name].done_when.matches(emulator.invoice("inv_1"))
    after = emulator.invoice("inv_1")
    assert after["updated_at"] > before["updated_at"]
    assert after["resource_version"] > before["resource_version"]
    [record] = emulator.applied_actions
    assert (record.invoice_id, record.action, record.api_version) == (
        "inv_1",
        name,
        ACTIONS[name].api_version,
    )
    assert record.idempotency_key == f"k-{name}"
    assert dict(record.params) == {
        k: (int(v) if k.endswith("_date") else v) for k, v in data.items()
    }


def test_pause_dunning_sets_and_resume_clears_the_expected_payment_date(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="payment_due", dunning_status="in_progress")
    until = int(emulator.clock.now()) + 7 * DAY
    paused = act(http, "pause_dunning", "inv_1", {"expected_payment_date": until})
    assert paused.json()["invoice"]["expected_payment_date"] == until
    resumed = act(http, "resume_dunning", "inv_1")
    assert "expected_payment_date" not in resumed.json()["invoice"]
    assert emulator.count_applied() == 2


def test_write_off_answers_with_a_credit_note(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="not_paid", amount_due=4_200)
    body = act(http, "write_off", "inv_1").json()
    note = body["credit_note"]
    assert note["reference_invoice_id"] == "inv_1"
    assert (note["type"], note["reason_code"], note["total"]) == ("adjustment", "write_off", 4_200)
    assert body["invoice"]["write_off_amount"] == 4_200


def test_close_with_nothing_due_is_paid(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1", amount_due=0)
    invoice = act(http, "close", "inv_1").json()["invoice"]
    assert invoice["status"] == "paid"
    assert "dunning_status" not in invoice


def test_close_with_auto_collection_off_starts_no_dunning(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", auto_collection="off")
    invoice = act(http, "close", "inv_1").json()["invoice"]
    assert invoice["status"] == "payment_due"
    assert "dunning_status" not in invoice


@pytest.mark.parametrize("name", sorted(ACTIONS))
def test_action_on_a_wrong_state_is_409(
    name: str, emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="voided")
    data = (
        {"expected_payment_date": int(emulator.clock.now()) + DAY}
        if name == "pause_dunning"
        else {}
    )
    response = act(http, ACTIONS[name].endpoint, "inv_1", data)
    assert_error(response, 409, "invalid_state_for_request")
    assert response.json()["type"] == "invalid_request"
    assert "status voided" in response.json()["message"]
    assert emulator.count_applied() == 0
    assert emulator.invoice("inv_1")["status"] == "voided"


@pytest.mark.parametrize(
    ("endpoint", "setup", "data"),
    [
        ("collect", {"line_items": 0}, {}),
        ("stop_dunning", {"status": "payment_due", "auto_collection": "off"}, {}),
        ("pause_dunning", {"status": "payment_due", "expected_payment_date": 2_000_000_000}, "F"),
        ("resume_dunning", {"status": "payment_due"}, {}),
        ("close", {"status": "payment_due"}, {}),
    ],
    ids=["collect-no-lines", "stop-auto-off", "pause-paused", "resume-not-paused", "close-closed"],
)
def test_action_specific_conditions_give_409(
    endpoint: str, setup: dict[str, Any], data: Any, emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", **setup)
    if data == "F":
        data = {"expected_payment_date": int(emulator.clock.now()) + DAY}
    assert_error(act(http, endpoint, "inv_1", data), 409, "invalid_state_for_request")
    assert emulator.count_applied() == 0


def test_duplicates_lists_invoices_acted_on_twice(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", status="payment_due")
    emulator.add_invoice("inv_2", status="payment_due")
    until = {"expected_payment_date": int(emulator.clock.now()) + DAY}
    for invoice_id in ("inv_1", "inv_2"):
        assert act(http, "pause_dunning", invoice_id, until).status_code == 200
    assert act(http, "resume_dunning", "inv_1").status_code == 200
    assert act(http, "pause_dunning", "inv_1", until).status_code == 200
    assert emulator.duplicates() == {"inv_1": 3}
    assert emulator.duplicates("pause_dunning") == {"inv_1": 2}
    assert emulator.count_applied("pause_dunning") == 3
    assert emulator.count_applied(invoice_id="inv_2") == 1


# Routing


def test_unknown_invoice_is_404(http: httpx.Client) -> None:
    assert_error(http.get("/api/v2/invoices/inv_nope"), 404, "resource_not_found")
    assert_error(act(http, "close", "inv_nope"), 404, "resource_not_found")


@pytest.mark.parametrize(
    "path",
    ["/api/v3/invoices", "/api/v2/customers", "/", "/api/v2/invoices/inv_1/explode", "/api/v2"],
)
def test_unknown_paths_are_404(path: str, emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(1)
    assert_error(http.post(path), 404, "resource_not_found")


def test_each_action_is_served_only_on_its_api_version(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    for action in ACTIONS.values():
        other = "v2" if action.api_version == "v1" else "v1"
        response = act(http, action.endpoint, "inv_000001", version=other)
        assert_error(response, 404, "resource_not_found")
    assert emulator.count_applied() == 0
    assert emulator.invoice("inv_000001")["status"] == "pending"


def test_v1_and_v2_shapes(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1", date=1_700_000_000, subscription_id="sub_1")
    v1 = http.get("/api/v1/invoices/inv_1").json()["invoice"]
    v2 = http.get("/api/v2/invoices/inv_1").json()["invoice"]
    assert v1["start_date"] == v2["date"] == 1_700_000_000
    assert "date" not in v1
    assert "start_date" not in v2
    assert v2["object"] == "invoice"
    assert v1["recurring"] is True
    assert ids(http.get("/api/v1/invoices")) == ["inv_1"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v2/invoices/inv_000001/close"),
        ("DELETE", "/api/v2/invoices/inv_000001"),
        ("POST", "/api/v2/invoices"),
        ("PUT", "/api/v1/invoices/inv_000001/collect"),
    ],
)
def test_wrong_method_is_405(
    method: str, path: str, emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    assert_error(http.request(method, path), 405, "http_method_not_supported")
    assert emulator.count_applied() == 0


# Body decoding and validation


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
        ("notes_to_remove[entity_type][0]=customer", "notes_to_remove[0]"),
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


# Listing


@pytest.fixture
def catalogue(emulator: ChargebeeEmulator) -> ChargebeeEmulator:
    """Six invoices with distinct statuses, customers, dates and update times."""
    base = 1_700_000_000
    rows = [
        ("inv_a", "pending", "cus_1", None, None, 0),
        ("inv_b", "payment_due", "cus_1", "sub_1", "in_progress", 1),
        ("inv_c", "payment_due", "cus_2", "sub_2", "exhausted", 2),
        ("inv_d", "not_paid", "cus_2", None, "stopped", 3),
        ("inv_e", "posted", "cus_3", "sub_1", None, 4),
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


# Idempotency


def test_replay_within_30_minutes(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    first = act(http, "close", "inv_1", {"comment": "once"}, key="close-inv_1")
    emulator.advance(29 * 60)
    again = act(http, "close", "inv_1", {"comment": "once"}, key="close-inv_1")
    assert first.status_code == again.status_code == 200
    assert "chargebee-idempotency-replayed" not in first.headers
    assert again.headers["chargebee-idempotency-replayed"] == "true"
    assert again.content == first.content
    assert emulator.count_applied() == 1
    assert [r.replayed for r in emulator.requests] == [False, True]


def test_same_key_with_another_request_is_422(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(2)
    act(http, "close", "inv_000001", {"comment": "a"}, key="k")
    changed_body = act(http, "close", "inv_000001", {"comment": "b"}, key="k")
    assert_error(changed_body, 422, "unable_to_process_request")
    assert changed_body.json()["type"] == "invalid_request"
    other_invoice = act(http, "close", "inv_000002", {"comment": "a"}, key="k")
    assert_error(other_invoice, 422, "unable_to_process_request")
    assert emulator.count_applied() == 1


def test_key_is_forgotten_after_30_minutes(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    assert act(http, "close", "inv_1", key="k").status_code == 200
    emulator.advance(31 * 60)
    later = act(http, "close", "inv_1", key="k")
    assert_error(later, 409, "invalid_state_for_request")
    assert "chargebee-idempotency-replayed" not in later.headers


def test_error_answers_are_replayed_too(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    first = act(http, "close", "inv_missing", key="k")
    emulator.add_invoice("inv_missing")
    again = act(http, "close", "inv_missing", key="k")
    assert_error(again, 404, "resource_not_found")
    assert again.headers["chargebee-idempotency-replayed"] == "true"
    assert again.content == first.content


def test_over_long_key_is_400(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    response = act(http, "close", "inv_1", key="k" * 101)
    assert_error(response, 400, "param_wrong_value", "chargebee-idempotency-key")
    assert act(http, "close", "inv_1", key="k" * 100).status_code == 200


@pytest.fixture
def frequent_thread_switches() -> Iterator[None]:
    """The server runs in this process: switching threads often makes races show up."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(interval)


@pytest.mark.loopback
@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_duplicates_apply_once(emulator: ChargebeeEmulator) -> None:
    invoice_ids = emulator.seed(20)
    threads = 8
    barrier = threading.Barrier(threads)
    results: list[httpx.Response] = []

    def send() -> None:
        with httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=10) as client:
            client.get("/api/v2/invoices", params={"limit": 1})
            for invoice_id in invoice_ids:
                barrier.wait()
                results.append(act(client, "close", invoice_id, {"comment": "c"}, key=invoice_id))

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    # As on Chargebee, a same-key repeat during the first request is told to retry later.
    in_progress = [r for r in results if r.status_code == 409]
    assert all("still in progress" in r.json()["message"] for r in in_progress)
    answered = [r for r in results if r.status_code == 200]
    assert len(answered) + len(in_progress) == threads * len(invoice_ids)
    replayed = [r.headers.get("chargebee-idempotency-replayed") for r in answered]
    assert replayed.count(None) == len(invoice_ids)
    assert emulator.count_applied() == len(invoice_ids)
    assert emulator.duplicates() == {}


@pytest.mark.loopback
@pytest.mark.usefixtures("frequent_thread_switches")
def test_concurrent_clients_never_lose_or_double_an_action(emulator: ChargebeeEmulator) -> None:
    invoice_ids = emulator.seed(200)

    def close_every_other(offset: int) -> None:
        with httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=10) as client:
            for invoice_id in invoice_ids[offset::4]:
                act(client, "close", invoice_id, key=f"close-{invoice_id}")

    workers = [threading.Thread(target=close_every_other, args=(n % 4,)) for n in range(8)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert emulator.count_applied("close") == 200
    assert emulator.duplicates() == {}
    assert {inv["status"] for inv in emulator.invoices()} == {"payment_due"}


# Rate limit


def at_window_start(emulator: ChargebeeEmulator) -> None:
    """Step the clock to just after a rate-limit window starts, so none ends mid-test."""
    emulator.advance(60 - emulator.clock.now() % 60 + 0.5)


def test_rate_limit_answers_429_with_retry_after(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    at_window_start(emulator)
    emulator.requests_per_minute = 3
    for _ in range(3):
        assert http.get("/api/v2/invoices/inv_000001").status_code == 200
    blocked = http.get("/api/v2/invoices/inv_000001")
    assert_error(blocked, 429, "api_request_limit_exceeded")
    assert blocked.json()["type"] == "operation_failed"
    assert 1 <= int(blocked.headers["retry-after"]) <= 60
    assert emulator.rate_limited_count == 1
    emulator.advance(60)
    assert http.get("/api/v2/invoices/inv_000001").status_code == 200
    emulator.requests_per_minute = None
    for _ in range(5):
        assert http.get("/api/v2/invoices/inv_000001").status_code == 200
    assert emulator.rate_limited_count == 1


def test_429_is_not_stored_under_the_idempotency_key(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1")
    at_window_start(emulator)
    emulator.requests_per_minute = 1
    assert http.get("/api/v2/invoices/inv_1").status_code == 200
    assert act(http, "close", "inv_1", key="k").status_code == 429
    emulator.advance(60)
    retried = act(http, "close", "inv_1", key="k")
    assert retried.status_code == 200
    assert "chargebee-idempotency-replayed" not in retried.headers
    assert emulator.count_applied() == 1


# Faults


@pytest.mark.parametrize(
    ("fault", "status", "code", "retry_after"),
    [
        ("rate_limit", 429, "api_request_limit_exceeded", "1"),
        ("rate_limit_no_retry_after", 429, "api_request_limit_exceeded", None),
        ("lock_timeout", 429, "lock_timeout", None),
        ("site_not_ready", 503, "site_not_ready", None),
        ("server_503", 503, "internal_temporary_error", None),
    ],
)
def test_json_error_faults(
    fault: str,
    status: int,
    code: str,
    retry_after: str | None,
    emulator: ChargebeeEmulator,
    http: httpx.Client,
) -> None:
    emulator.add_invoice("inv_1")
    emulator.faults.script([fault])
    response = act(http, "close", "inv_1", key="k")
    assert_error(response, status, code)
    assert response.headers.get("retry-after") == retry_after
    assert emulator.count_applied() == 0
    retried = act(http, "close", "inv_1", key="k")
    assert retried.status_code == 200
    assert "chargebee-idempotency-replayed" not in retried.headers
    assert emulator.faults.injected == {fault: 1}
    assert emulator.rate_limited_count == 0


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_html_faults(status: int, emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(1)
    emulator.faults.script([f"gateway_html_{status}"])
    response = http.get("/api/v2/invoices/inv_000001")
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.startswith("<html>")


def test_reset_before_processing(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    emulator.faults.script(["reset_before"])
    with pytest.raises(httpx.TransportError):
        act(http, "close", "inv_1", key="k")
    assert emulator.count_applied() == 0
    assert act(http, "close", "inv_1", key="k").status_code == 200
    assert emulator.requests[0].fault == "reset_before"
    assert emulator.requests[0].status is None


def test_lose_response_applies_the_action(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1")
    emulator.faults.script(["lose_response"])
    with pytest.raises(httpx.TransportError):
        act(http, "close", "inv_1", key="k")
    assert emulator.count_applied("close", "inv_1") == 1
    retried = act(http, "close", "inv_1", key="k")
    assert retried.status_code == 200
    assert retried.headers["chargebee-idempotency-replayed"] == "true"
    assert emulator.count_applied() == 1


def test_malformed_json(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(1)
    emulator.faults.script(["malformed_json"])
    response = http.get("/api/v2/invoices/inv_000001")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()
    assert http.get("/api/v2/invoices/inv_000001").json()["invoice"]["id"] == "inv_000001"


@pytest.mark.loopback
def test_slow_response(emulator: ChargebeeEmulator) -> None:
    emulator.seed(1)
    emulator.faults.slow_seconds = 1.0
    emulator.faults.script(["slow_response", "slow_response"])
    url = f"{emulator.base_url}/api/v2/invoices/inv_000001"
    with pytest.raises(httpx.ReadTimeout):
        httpx.get(url, auth=(KEY, ""), timeout=0.1)
    patient = httpx.get(url, auth=(KEY, ""), timeout=10)
    assert patient.status_code == 200
    assert emulator.faults.injected["slow_response"] == 2


def test_script_counts_every_request_and_can_target_posts(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(2)
    emulator.faults.script([None, "server_503"])
    assert http.get("/api/v2/invoices").status_code == 200
    assert http.get("/api/v2/invoices").status_code == 503
    assert http.get("/api/v2/invoices").status_code == 200
    emulator.faults.script(["site_not_ready"], only_methods={"post"})
    assert http.get("/api/v2/invoices").status_code == 200
    assert act(http, "close", "inv_000001").status_code == 503
    assert emulator.faults.remaining == 0
    assert [r.fault for r in emulator.requests] == [
        None,
        "server_503",
        None,
        None,
        "site_not_ready",
    ]


def test_rates_are_repeatable_with_a_seed(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.seed(1)

    def statuses() -> list[int]:
        emulator.faults.set_rates({"server_503": 0.3, "rate_limit": 0.2}, seed=123)
        return [http.get("/api/v2/invoices/inv_000001").status_code for _ in range(40)]

    first = statuses()
    assert first == statuses()
    assert set(first) == {200, 429, 503}
    injected = emulator.faults.injected
    assert injected["server_503"] == 2 * first.count(503)
    assert injected["rate_limit"] == 2 * first.count(429)
    emulator.faults.clear()
    assert http.get("/api/v2/invoices/inv_000001").status_code == 200


def test_unknown_fault_is_refused(emulator: ChargebeeEmulator) -> None:
    with pytest.raises(ValueError, match="unknown fault"):
        emulator.faults.script(["meteor"])
    with pytest.raises(ValueError, match="unknown fault"):
        emulator.faults.set_rates({"meteor": 0.1})
    assert "lose_response" in FAULT_KINDS


def test_faulted_requests_count_against_the_rate_limit(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.seed(1)
    at_window_start(emulator)
    emulator.requests_per_minute = 2
    emulator.faults.script(["server_503"])
    assert http.get("/api/v2/invoices/inv_000001").status_code == 503
    assert http.get("/api/v2/invoices/inv_000001").status_code == 200
    assert http.get("/api/v2/invoices/inv_000001").status_code == 429


# Clock


def test_clock_only_moves_forward(emulator: ChargebeeEmulator) -> None:
    before = emulator.clock.now()
    emulator.advance(3600)
    assert emulator.clock.now() >= before + 3600
    with pytest.raises(ValueError, match="forward"):
        emulator.advance(-1)


# Command line


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready" / "url"
    ready.parent.mkdir()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_cb.testing",
            "--seed",
            "pending=3",
            "--seed",
            "payment_due=2",
            "--api-key",
            "cli_key",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = ready.read_text().strip()
        assert line == f"chargebee emulator listening on {base_url} (5 invoices)\n"
        assert [p.name for p in ready.parent.iterdir()] == ["url"]
        with httpx.Client(base_url=base_url, auth=("cli_key", ""), timeout=10) as client:
            assert ids(client.get("/api/v2/invoices", params={"status[is]": "payment_due"})) == [
                "inv_000004",
                "inv_000005",
            ]
            assert act(client, "close", "inv_000001").status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err
    assert out.strip() == "chargebee emulator stopped; applied actions: close=1"


def test_cli_refuses_a_public_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_cb.testing", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr
