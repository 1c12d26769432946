"""Auto collection lives on the customer or subscription, as on Chargebee, never on the invoice."""

from __future__ import annotations

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import DAY, act, assert_error


def dunning_data(emulator: ChargebeeEmulator, endpoint: str) -> dict[str, int]:
    if endpoint == "pause_dunning":
        return {"expected_payment_date": int(emulator.clock.now()) + DAY}
    return {}


@pytest.mark.parametrize("endpoint", ["stop_dunning", "pause_dunning"])
@pytest.mark.parametrize(
    ("customer", "subscription", "allowed"),
    [
        ("on", None, True),
        ("off", None, False),
        ("off", "on", True),
        ("on", "off", False),
    ],
    ids=["customer-on", "customer-off", "subscription-overrides-on", "subscription-overrides-off"],
)
def test_dunning_control_needs_auto_collection_on_the_subscription_or_customer(
    endpoint: str,
    customer: str,
    subscription: str | None,
    allowed: bool,
    emulator: ChargebeeEmulator,
    http: httpx.Client,
) -> None:
    emulator.add_customer("cus_1", auto_collection=customer)
    emulator.add_subscription("sub_1", customer_id="cus_1", auto_collection=subscription)
    emulator.add_invoice(
        "inv_1",
        status="payment_due",
        customer_id="cus_1",
        subscription_id="sub_1",
        dunning_status="in_progress",
    )

    response = act(http, endpoint, "inv_1", dunning_data(emulator, endpoint))

    if allowed:
        assert response.status_code == 200, response.text
        assert emulator.count_applied(endpoint) == 1
    else:
        assert_error(response, 409, "invalid_state_for_request")
        assert "auto collection off" in response.json()["message"]
        assert emulator.count_applied() == 0


def test_invoices_carry_no_auto_collection(emulator: ChargebeeEmulator, http: httpx.Client) -> None:
    emulator.add_invoice("inv_1", status="payment_due", auto_collection="off")
    for version in ("v1", "v2"):
        invoice = http.get(f"/api/{version}/invoices/inv_1").json()["invoice"]
        assert "auto_collection" not in invoice
    assert "auto_collection" not in emulator.invoice("inv_1")


def test_add_invoice_auto_collection_sets_the_customers_setting(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_1", customer_id="cus_9", status="payment_due")
    assert emulator.customer("cus_9")["auto_collection"] == "on"
    emulator.add_invoice("inv_2", customer_id="cus_9", status="payment_due", auto_collection="off")

    assert emulator.customer("cus_9")["auto_collection"] == "off"
    assert_error(act(http, "stop_dunning", "inv_1"), 409, "invalid_state_for_request")


def test_customers_and_subscriptions_are_read_over_v2(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_customer("cus_1", auto_collection="off")
    emulator.add_subscription("sub_1", customer_id="cus_1", auto_collection="on")
    emulator.add_invoice("inv_1", customer_id="cus_1", subscription_id="sub_2")

    customer = http.get("/api/v2/customers/cus_1")
    assert customer.status_code == 200, customer.text
    assert customer.json()["customer"]["auto_collection"] == "off"
    subscription = http.get("/api/v2/subscriptions/sub_1").json()["subscription"]
    assert (subscription["customer_id"], subscription["auto_collection"]) == ("cus_1", "on")
    inheriting = http.get("/api/v2/subscriptions/sub_2").json()["subscription"]
    assert "auto_collection" not in inheriting
    assert_error(http.get("/api/v2/customers/cus_nope"), 404, "resource_not_found")
    assert_error(http.get("/api/v1/customers/cus_1"), 404, "resource_not_found")
    assert_error(http.post("/api/v2/customers/cus_1"), 405, "http_method_not_supported")


def test_a_subscription_belongs_to_one_customer(emulator: ChargebeeEmulator) -> None:
    emulator.add_invoice("inv_1", customer_id="cus_1", subscription_id="sub_1")
    with pytest.raises(ValueError, match="belongs to customer 'cus_1'"):
        emulator.add_invoice("inv_2", customer_id="cus_2", subscription_id="sub_1")
    with pytest.raises(KeyError, match="cus_nope"):
        emulator.add_subscription("sub_2", customer_id="cus_nope")
    with pytest.raises(ValueError, match="auto_collection"):
        emulator.add_customer("cus_3", auto_collection="maybe")
    with pytest.raises(ValueError, match="already exists"):
        emulator.add_customer("cus_1")


def test_customers_and_invoices_are_created_through_the_api(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_invoice("inv_000007", status="paid")
    customer = http.post(
        "/api/v2/customers", data={"id": "cus_new", "auto_collection": "off", "email": "a@b.c"}
    )
    assert customer.status_code == 200, customer.text
    assert customer.json()["customer"]["email"] == "a@b.c"
    form = {
        "customer_id": "cus_new",
        "currency_code": "EUR",
        "charges[amount][0]": "1500",
        "charges[description][0]": "Setup",
        "charges[amount][1]": "250",
        "charges[description][1]": "Extra",
    }
    created = http.post("/api/v2/invoices/create_for_charge_items_and_charges", data=form)

    assert created.status_code == 200, created.text
    invoice = created.json()["invoice"]
    assert (invoice["id"], invoice["status"], invoice["total"]) == ("1", "payment_due", 1750)
    assert (invoice["currency_code"], len(invoice["line_items"])) == ("EUR", 2)
    assert "dunning_status" not in invoice  # auto collection is off: no charge, no dunning
    assert emulator.invoice("1")["customer_id"] == "cus_new"
    again = http.post(
        "/api/v2/invoices/create_for_charge_items_and_charges",
        data={"customer_id": "cus_new", "charges[amount][0]": "5", "charges[description][0]": "x"},
    )
    assert again.json()["invoice"]["id"] == "2"


@pytest.mark.parametrize(
    ("path", "form", "status", "code", "param"),
    [
        ("/api/v2/customers", {"id": "cus_1"}, 400, "duplicate_entry", "id"),
        ("/api/v2/customers", {"auto_collection": "maybe"}, 400, "param_wrong_value", None),
        (
            "/api/v2/invoices/create_for_charge_items_and_charges",
            {"customer_id": "cus_nope", "charges[amount][0]": "5", "charges[description][0]": "x"},
            404,
            "resource_not_found",
            None,
        ),
        (
            "/api/v2/invoices/create_for_charge_items_and_charges",
            {"customer_id": "cus_1", "charges[amount][0]": "five", "charges[description][0]": "x"},
            400,
            "param_wrong_value",
            "charges[amount][0]",
        ),
        (
            "/api/v2/invoices/create_for_charge_items_and_charges",
            {"customer_id": "cus_1"},
            400,
            "param_wrong_value",
            "charges",
        ),
    ],
    ids=["duplicate", "bad-auto-collection", "unknown-customer", "bad-amount", "no-charges"],
)
def test_creation_refuses_what_chargebee_refuses(
    path: str,
    form: dict[str, str],
    status: int,
    code: str,
    param: str | None,
    emulator: ChargebeeEmulator,
    http: httpx.Client,
) -> None:
    emulator.add_customer("cus_1")
    assert_error(http.post(path, data=form), status, code, param)
    assert emulator.invoices() == []


def test_an_invoice_for_another_customers_subscription_is_refused(
    emulator: ChargebeeEmulator, http: httpx.Client
) -> None:
    emulator.add_customer("cus_1")
    emulator.add_customer("cus_2")
    emulator.add_subscription("sub_1", customer_id="cus_1")
    form = {
        "customer_id": "cus_2",
        "subscription_id": "sub_1",
        "charges[amount][0]": "5",
        "charges[description][0]": "x",
    }
    response = http.post("/api/v2/invoices/create_for_charge_items_and_charges", data=form)
    assert_error(response, 400, "param_wrong_value", "subscription_id")
    by_subscription = http.post(
        "/api/v2/invoices/create_for_charge_items_and_charges",
        data={k: v for k, v in form.items() if k != "customer_id"},
    )
    assert by_subscription.json()["invoice"]["customer_id"] == "cus_1"
