"""derive_key: one deterministic, bounded key per attempt at an action."""

from __future__ import annotations

import re

import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.transport import check_idempotency_key
from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.operators.idempotency_keys import derive_key

IDENTITY = "month_end/close_invoices/scheduled__2024-01-31T00:00:00+00:00/-1"


def test_deterministic() -> None:
    assert derive_key(IDENTITY, "close", "inv_1") == derive_key(IDENTITY, "close", "inv_1")


def test_shape() -> None:
    key = derive_key(IDENTITY, "close", "inv_1")
    assert re.fullmatch(r"af-close-[0-9a-f]{40}", key)


@pytest.mark.parametrize(
    "other",
    [
        (IDENTITY + "x", "close", "inv_1"),
        ("month_end/close_invoices/manual__2024-02-01/-1", "close", "inv_1"),
        ("month_end/close_invoices/scheduled__2024-01-31T00:00:00+00:00/0", "close", "inv_1"),
        (IDENTITY, "collect", "inv_1"),
        (IDENTITY, "close", "inv_2"),
    ],
)
def test_differs_by_each_input(other: tuple[str, str, str]) -> None:
    assert derive_key(*other) != derive_key(IDENTITY, "close", "inv_1")


def test_inputs_cannot_be_shifted_into_each_other() -> None:
    assert derive_key("ab", "close", "c") != derive_key("a", "close", "bc")


@pytest.mark.parametrize("action", sorted(ACTIONS))
@pytest.mark.parametrize("identity", ["x", "é" * 5000, IDENTITY * 50])
def test_bounded_and_accepted_by_the_transport(action: str, identity: str) -> None:
    key = derive_key(identity, action, "i" * 50)
    assert len(key) <= 100
    assert check_idempotency_key(key) == key


def test_bounded_for_any_action_name() -> None:
    assert len(derive_key(IDENTITY, "a" * 80, "inv_1")) <= 100


@pytest.mark.parametrize("identity", ["", "   ", "\n", None, 5])
def test_empty_identity_rejected(identity: object) -> None:
    with pytest.raises(ChargebeeValidationError) as info:
        derive_key(identity, "close", "inv_1")  # type: ignore[arg-type]
    assert info.value.param == "idempotency_key"
