"""A conflict no read explains, over HTTP: the outcome is unknown, retryable, and a re-run is safe."""

from __future__ import annotations

import time

import pytest

from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.invoicing.clients import ChargebeeClient
from airflow_provider_cb.invoicing.outcomes import perform_action
from airflow_provider_cb.testing import ChargebeeEmulator


@pytest.mark.loopback
def test_a_first_request_outlasting_the_wait_is_unknown_then_replayed(
    emulator: ChargebeeEmulator,
) -> None:
    emulator.add_invoice("inv_1")
    emulator.in_flight_message = ""
    emulator.processing_seconds = 4.0
    settings = ClientSettings(api_key=emulator.api_key, base_url=emulator.base_url, timeout=1)
    with ChargebeeClient(settings, connection_id="chargebee_default") as client:
        client.in_flight_wait = 1.0
        record = perform_action(client, ACTIONS["close"], "inv_1", fields={}, idempotency_key="k-1")
        assert (record.outcome, record.retryable) == ("failed", True)
        assert record.api_error_code == "invalid_state_for_request"
        assert record.message is not None and "outcome is unknown" in record.message
        time.sleep(4.0)  # the first request ends; Chargebee keeps its answer under the key
        rerun = perform_action(client, ACTIONS["close"], "inv_1", fields={}, idempotency_key="k-1")
    assert (rerun.outcome, rerun.replayed) == ("done", True)
    assert emulator.count_applied() == 1
