"""Careless configuration fails the task at once, naming the parameter, with nothing sent.

Each case was once accepted, crashed with a raw ``ValueError``/``AttributeError``, or
was retried: an offset of ``+24:00``, a site written with the Kelvin sign or the long
s, a key with ``:``, numbers a form or JSON extra can carry but no setting means.
"""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.operators import CloseInvoiceOperator
from airflow_provider_cb.sensors import ChargebeeInvoiceSensor
from airflow_provider_cb.testing import ChargebeeEmulator
from tests.reliability.test_bad_input_matrix import Case, _connection, _run, conn, emu_conn, op

KELVIN = "\u212a"
LONG_S = "\u017f"

CASES: list[Case] = [
    op("date_offset_24h", "invoice_date", invoice_date="2026-01-01T00:00:00+24:00"),
    op("date_offset_minus_25h", "invoice_date", invoice_date="2026-01-01T00:00:00-25:00"),
    emu_conn("base_url_number", "base_url", base_url=8080),
    emu_conn("base_url_list", "base_url", base_url=["http://127.0.0.1"]),
    emu_conn("base_url_port_zero", "base_url", base_url="http://127.0.0.1:0"),
    emu_conn("base_url_with_api_v2", "base_url", base_url="http://127.0.0.1:8080/api/v2"),
    emu_conn("base_url_unicode_host", "base_url", base_url="http://127.0.0.\u0661:8080"),
    conn("site_kelvin_sign", "site", host=f"acme{KELVIN}"),
    conn("site_long_s", "site", host=f"{LONG_S}hop"),
    conn("site_dotless_i", "site", host="b\u0131ll"),
    conn("site_dotted_capital_i", "site", host="\u0130nc"),
    conn("environment_kelvin", "environment", extra={"environment": f"chargebee.{KELVIN}z"}),
    emu_conn("requests_per_minute_tiny", "requests_per_minute", requests_per_minute=1e-300),
    emu_conn("requests_per_minute_true", "requests_per_minute", requests_per_minute=True),
    emu_conn("requests_per_minute_infinite", "requests_per_minute", requests_per_minute="inf"),
    emu_conn("timeout_nanosecond", "timeout", timeout=1e-9),
    emu_conn("timeout_true", "timeout", timeout=True),
    emu_conn("max_retries_fraction", "max_retries", max_retries=4.7),
    emu_conn("max_retries_true", "max_retries", max_retries=True),
    conn("port_true", "port", extra={"port": True}),
    conn("port_fraction", "port", extra={"port": "443.5"}),
    Case(
        "api_key_with_colon",
        "api_key",
        {"invoice_id": "inv_1"},
        connection={"password": "test_key:secret"},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_careless_configuration_fails_without_retries_naming_the_parameter(
    case: Case, chargebee_emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = chargebee_emulator
    emulator.seed(1, status="pending", prefix="inv_")
    connection = _connection(emulator, case.connection)
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(connection))

    with pytest.raises(AirflowFailException) as caught:
        _run(case)

    cause = caught.value.__cause__
    assert isinstance(cause, ChargebeeValidationError), repr(caught.value)
    assert cause.param == case.param, str(cause)
    assert list(emulator.requests) == []


def _run_sensor(**kwargs: Any) -> None:
    with DAG("careless_sensor", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")):
        sensor = ChargebeeInvoiceSensor(
            task_id="wait", target_statuses=["paid"], poke_interval=0.1, timeout=5, **kwargs
        )
    context: Any = {"ti": SimpleNamespace(map_index=-1, xcom_push=lambda **kw: None)}
    sensor.execute(context)


@pytest.mark.parametrize(
    ("invoice_id", "extra", "param"),
    [
        ("inv/1", {}, "invoice_id"),
        ("inv_1", {"max_retries": 4.7}, "max_retries"),
        ("inv_1", {"base_url": "http://127.0.0.1:0"}, "base_url"),
    ],
    ids=["bad_invoice_id", "bad_max_retries", "base_url_port_zero"],
)
@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferrable"])
def test_the_sensor_fails_bad_input_without_retries(
    invoice_id: str,
    extra: dict[str, Any],
    param: str,
    deferrable: bool,
    chargebee_emulator: ChargebeeEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    emulator = chargebee_emulator
    emulator.seed(1, status="pending", prefix="inv_")
    connection = _connection(emulator, {"extra": extra})
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(connection))

    with pytest.raises(AirflowFailException) as caught:
        _run_sensor(invoice_id=invoice_id, deferrable=deferrable)

    assert f"{param}:" in str(caught.value)
    assert list(emulator.requests) == []


@pytest.mark.parametrize(
    "base_url",
    [
        "ftp://admin:hunter2secret@127.0.0.1",
        "https://admin:hunter2secret@127.0.0.1:99999",
        "https://admin:hunter2secret@127.0.0.1:port",
        "admin:hunter2secret@127.0.0.1:8080",
        "https://admin:hunter2secret@[::1:8080",
    ],
)
def test_a_base_url_error_never_quotes_the_userinfo(
    base_url: str, chargebee_emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    connection = _connection(chargebee_emulator, {"extra": {"base_url": base_url}})
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(connection))

    with pytest.raises(AirflowFailException) as caught:
        _run(Case("userinfo", "base_url", {"invoice_id": "inv_1"}))

    assert "base_url:" in str(caught.value)
    assert "hunter2secret" not in str(caught.value)
    assert "admin" not in str(caught.value)


def test_bulk_with_if_already_done_skip_records_and_goes_on_as_documented(
    chargebee_emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = chargebee_emulator
    ids = emulator.seed(2, status="paid")
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", emulator.connection_json())
    with DAG("bulk_skip", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC")) as dag:
        task = CloseInvoiceOperator(task_id="close", invoice_ids=ids, if_already_done="skip")
    pushed: list[Any] = []
    ti = SimpleNamespace(map_index=-1, xcom_push=lambda **kw: pushed.append(kw))
    context: Any = {"dag": dag, "task": task, "run_id": "manual__m", "ti": ti, "params": {}}
    task.render_template_fields(context)

    summary = task.execute(context)

    assert summary["counts"]["already_done"] == 2
    assert [record["outcome"] for record in summary["records"]] == ["already_done"] * 2
