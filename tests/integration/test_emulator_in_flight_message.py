"""The emulator's in-flight refusal takes any wording; other state conflicts keep theirs."""

from __future__ import annotations

import threading

import httpx
import pytest

from airflow_provider_cb.testing import ChargebeeEmulator
from tests.integration.emulator_calls import KEY, act

WORDINGS = ["Invoice is not in pending state", "Request is being processed", ""]


@pytest.mark.loopback
@pytest.mark.parametrize("wording", WORDINGS)
def test_a_same_key_repeat_in_flight_gets_the_chosen_wording(
    wording: str, emulator: ChargebeeEmulator
) -> None:
    emulator.add_invoice("inv_1")
    emulator.add_invoice("inv_2", status="voided")
    emulator.in_flight_message = wording
    emulator.processing_seconds = 1.5
    with (
        httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=10) as http,
        httpx.Client(base_url=emulator.base_url, auth=(KEY, ""), timeout=10) as other,
    ):
        first = threading.Thread(target=act, args=(other, "close", "inv_1"), kwargs={"key": "k-1"})
        first.start()
        threading.Event().wait(0.5)  # the first is being handled: the repeat lands meanwhile
        repeat = act(http, "close", "inv_1", key="k-1")
        first.join()
        conflict = act(http, "close", "inv_2", key="k-2")
    assert repeat.status_code == 409
    body = repeat.json()
    assert (body["api_error_code"], body["message"]) == ("invalid_state_for_request", wording)
    assert conflict.json()["message"] != wording
    assert emulator.count_applied() == 1
