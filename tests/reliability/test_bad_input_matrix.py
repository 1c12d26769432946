"""Bad input is refused at the edge: a clear error naming the parameter, and no request sent.

One table covers ids, body fields, dates, header values, ``skip_events``,
connection fields and templated values that render to the wrong type, with
Airflow's text rendering and with ``render_template_as_native_obj``. Each case
builds the operator (or hook) inside a DAG, renders its template fields with the
DAG's own Jinja environment and executes it against a running emulator.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pendulum
import pytest
from airflow.sdk import DAG
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_cb import operators
from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.hooks.chargebee import ChargebeeHook
from airflow_provider_cb.testing import ChargebeeEmulator

NOW = pendulum.now("UTC")
NOTE = {"entity_type": "customer", "entity_id": "cus_1"}


@dataclass(frozen=True)
class Case:
    """One bad input: where it goes, and the parameter the error must name."""

    id: str
    param: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    operator: str = "CloseInvoiceOperator"
    hook: dict[str, Any] | None = None
    """Instead of an operator: ChargebeeHook(**hook) and one close_invoice call."""
    call: dict[str, Any] = field(default_factory=dict)
    connection: dict[str, Any] = field(default_factory=dict)
    """Connection fields to override; ``"extra"`` is merged, ``None`` removes a field."""
    params: dict[str, Any] = field(default_factory=dict)
    native: bool = False


def op(case_id: str, param: str, **kwargs: Any) -> Case:
    if "invoice_ids" not in kwargs:
        kwargs.setdefault("invoice_id", "inv_1")
    return Case(case_id, param, kwargs=kwargs)


def conn(case_id: str, param: str, **fields: Any) -> Case:
    """A connection without base_url, so the site, protocol and port are in play."""
    extra = {"base_url": None, "environment": "chargebee.invalid", **fields.pop("extra", {})}
    return Case(
        case_id, param, kwargs={"invoice_id": "inv_1"}, connection={**fields, "extra": extra}
    )


def emu_conn(case_id: str, param: str, **extra: Any) -> Case:
    """The emulator's connection with one extra changed."""
    return Case(case_id, param, kwargs={"invoice_id": "inv_1"}, connection={"extra": extra})


def templated(case_id: str, param: str, value: Any, *, native: bool, **kwargs: Any) -> Case:
    """``kwargs`` hold templates reading ``params.value``, which is the wrong type."""
    if "invoice_ids" not in kwargs:
        kwargs.setdefault("invoice_id", "inv_1")
    return Case(case_id, param, kwargs=kwargs, params={"value": value}, native=native)


V = "{{ params.value }}"

CASES: list[Case] = [
    # Invoice ids: anything that could change the path or query is refused.
    op("id_empty", "invoice_id", invoice_id=""),
    op("id_blank", "invoice_id", invoice_id="   "),
    op("id_traversal", "invoice_id", invoice_id="../inv_1"),
    op("id_slash", "invoice_id", invoice_id="inv_1/void"),
    op("id_query", "invoice_id", invoice_id="inv_1?limit=100"),
    op("id_fragment", "invoice_id", invoice_id="inv_1#x"),
    op("id_space", "invoice_id", invoice_id="inv 1"),
    op("id_crlf", "invoice_id", invoice_id="inv_1\r\nX-Evil: 1"),
    op("id_percent_encoded_slash", "invoice_id", invoice_id="inv%2F1"),
    op("id_non_ascii", "invoice_id", invoice_id="inv_1é"),
    op("id_too_long", "invoice_id", invoice_id="i" * 51),
    op("id_int", "invoice_id", invoice_id=12345),
    op("ids_plain_string", "invoice_ids", invoice_ids="inv_1"),
    op("ids_bad_item", "invoice_ids[1]", invoice_ids=["inv_1", "inv/2"]),
    op("ids_duplicate", "invoice_ids[2]", invoice_ids=["inv_1", "inv_2", "inv_1"]),
    op("ids_int_item", "invoice_ids[1]", invoice_ids=["inv_1", 7]),
    Case("id_and_ids", "invoice_ids", kwargs={"invoice_id": "inv_1", "invoice_ids": ["inv_2"]}),
    Case("neither_id_nor_ids", "invoice_id", kwargs={}),
    # Body fields.
    op("comment_too_long", "comment", comment="x" * 301),
    op("comment_not_text", "comment", comment=42),
    op("invoice_note_too_long", "invoice_note", invoice_note="x" * 2001),
    op("remove_general_note_not_bool", "remove_general_note", remove_general_note="yes"),
    op("notes_to_remove_not_list", "notes_to_remove", notes_to_remove="customer"),
    op(
        "notes_to_remove_bad_type",
        "notes_to_remove[0].entity_type",
        notes_to_remove=[{"entity_type": "planet", "entity_id": "x"}],
    ),
    op(
        "notes_to_remove_no_id", "notes_to_remove[0]", notes_to_remove=[{"entity_type": "customer"}]
    ),
    op(
        "notes_to_remove_bad_id",
        "notes_to_remove[0].entity_id",
        notes_to_remove=[{"entity_type": "customer", "entity_id": "a/b"}],
    ),
    op("notes_to_remove_duplicate", "notes_to_remove[1]", notes_to_remove=[NOTE, dict(NOTE)]),
    # Dates.
    op("invoice_date_future", "invoice_date", invoice_date=NOW.add(days=1)),
    op("invoice_date_naive", "invoice_date", invoice_date=dt.datetime(2026, 1, 5)),
    op("invoice_date_no_zone", "invoice_date", invoice_date="2026-01-05T00:00:00"),
    op("invoice_date_impossible", "invoice_date", invoice_date="2026-02-30T00:00:00Z"),
    op("invoice_date_milliseconds", "invoice_date", invoice_date=1_760_000_000_000),
    op("invoice_date_bool", "invoice_date", invoice_date=True),
    op("invoice_date_words", "invoice_date", invoice_date="yesterday"),
    Case(
        "pause_until_past",
        "expected_payment_date",
        operator="PauseDunningOperator",
        kwargs={"invoice_id": "inv_1", "expected_payment_date": NOW.subtract(days=1)},
    ),
    Case(
        "pause_until_missing",
        "expected_payment_date",
        operator="PauseDunningOperator",
        kwargs={"invoice_id": "inv_1"},
    ),
    Case(
        "pause_until_nan",
        "expected_payment_date",
        operator="PauseDunningOperator",
        kwargs={"invoice_id": "inv_1", "expected_payment_date": float("nan")},
    ),
    # Header values.
    Case("origin_user_crlf", "origin_user", hook={"origin_user": "a@b.com\r\nX-Evil: 1"}),
    Case("origin_user_too_long", "origin_user", hook={"origin_user": "a@" + "b" * 250}),
    Case("origin_device_empty", "origin_device", hook={"origin_device": "  "}),
    Case("origin_device_non_ascii", "origin_device", hook={"origin_device": "büro"}),
    Case("idempotency_key_spaces", "idempotency_key", hook={}, call={"idempotency_key": "a b"}),
    Case(
        "idempotency_key_too_long", "idempotency_key", hook={}, call={"idempotency_key": "k" * 101}
    ),
    emu_conn("origin_user_not_email", "origin_user", origin_user="finance team"),
    emu_conn("origin_ip_non_ascii", "origin_ip", origin_ip="10.0.0.\uff11"),
    emu_conn("business_entity_id_path", "business_entity_id", business_entity_id="be/eu"),
    templated(
        "idempotency_template_blank", "idempotency_key", "  ", native=False, idempotency_key=V
    ),
    # skip_events.
    op("skip_events_unknown", "skip_events", skip_events="sms"),
    op("skip_events_bad_item", "skip_events", skip_events=["webhook", 3]),
    op("skip_events_number", "skip_events", skip_events=5),
    emu_conn("skip_events_in_connection", "skip_events", skip_events="everything"),
    # Connection fields.
    conn("site_missing", "site", host=None),
    conn("site_with_path", "site", host="acme/evil"),
    conn("site_with_dots", "site", host="acme.evil.com"),
    conn("site_test_suffix", "site", host="acme-test"),
    conn("key_missing", "api_key", password=None),
    conn("key_with_spaces", "api_key", password="test key with spaces"),
    conn("key_too_short", "api_key", password="abc"),
    conn("key_with_quote", "api_key", password='test_"quoted"_key'),
    conn("protocol_ftp", "protocol", extra={"protocol": "ftp"}),
    conn("protocol_http_remote", "protocol", extra={"protocol": "http"}),
    conn("port_too_big", "port", port=70000),
    conn("port_zero", "port", extra={"port": "0"}),
    conn("port_negative", "port", port=-1),
    conn("port_not_number", "port", extra={"port": "https"}),
    conn("environment_not_domain", "environment", extra={"environment": "chargebee"}),
    emu_conn("base_url_ftp", "base_url", base_url="ftp://127.0.0.1:21"),
    emu_conn("base_url_http_remote", "base_url", base_url="http://example.com"),
    emu_conn("base_url_credentials", "base_url", base_url="https://user:pw@127.0.0.1"),
    emu_conn("base_url_query", "base_url", base_url="https://127.0.0.1/?site=other"),
    emu_conn("base_url_no_scheme", "base_url", base_url="127.0.0.1:8080"),
    emu_conn("base_url_bad_port", "base_url", base_url="https://127.0.0.1:99999"),
    emu_conn("timeout_zero", "timeout", timeout="0"),
    emu_conn("timeout_words", "timeout", timeout="soon"),
    emu_conn("max_retries_too_many", "max_retries", max_retries=50),
    emu_conn("test_site_not_bool", "test_site", test_site="maybe"),
    emu_conn("requests_per_minute_negative", "requests_per_minute", requests_per_minute=-1),
    # Templated values rendered natively to the wrong type.
    templated("native_ids_none", "invoice_ids", None, native=True, invoice_ids=V),
    templated("native_ids_dict", "invoice_ids", {"a": 1}, native=True, invoice_ids=V),
    templated(
        "native_ids_duplicate", "invoice_ids[1]", ["inv_1", "inv_1"], native=True, invoice_ids=V
    ),
    templated("native_id_empty_list", "invoice_id", [], native=True, invoice_id=V),
    templated("native_id_none", "invoice_id", None, native=True, invoice_id=V),
    templated("native_id_dict", "invoice_id", {"id": "inv_1"}, native=True, invoice_id=V),
    templated("native_comment_dict", "comment", {"text": "x"}, native=True, comment=V),
    templated("native_notes_dict", "notes_to_remove", NOTE, native=True, notes_to_remove=V),
    templated(
        "native_notes_duplicate", "notes_to_remove[1]", [NOTE, NOTE], native=True, notes_to_remove=V
    ),
    templated(
        "native_skip_events_dict", "skip_events", {"email": True}, native=True, skip_events=V
    ),
    templated("native_key_none", "idempotency_key", None, native=True, idempotency_key=V),
    templated("native_date_list", "invoice_date", [], native=True, invoice_date=V),
    # Templated values rendered as text (Airflow's default) from the wrong type.
    templated("text_ids_none", "invoice_ids", None, native=False, invoice_ids=V),
    templated("text_ids_dict", "invoice_ids", {"a": 1}, native=False, invoice_ids=V),
    templated(
        "text_ids_duplicate", "invoice_ids[1]", ["inv_1", "inv_1"], native=False, invoice_ids=V
    ),
    templated("text_id_empty_list", "invoice_id", [], native=False, invoice_id=V),
    templated("text_id_none", "invoice_id", None, native=False, invoice_id=V),
    templated("text_id_dict", "invoice_id", {"id": "inv_1"}, native=False, invoice_id=V),
    templated(
        "text_remove_note_none", "remove_general_note", None, native=False, remove_general_note=V
    ),
    templated("text_date_none", "invoice_date", None, native=False, invoice_date=V),
    templated("text_dry_run_yes", "dry_run", "yes", native=False, dry_run=V),
    templated("native_dry_run_none", "dry_run", None, native=True, dry_run=V),
    # Operator choices and the selection's filters.
    op("failure_policy_unknown", "failure_policy", failure_policy="sometimes"),
    op("if_already_done_unknown", "if_already_done", if_already_done="ignore"),
    op("if_not_eligible_unknown", "if_not_eligible", if_not_eligible="retry"),
    op("max_workers_zero", "max_workers", max_workers=0),
    op("canary_size_zero", "canary_size", canary_size=0),
    op("dry_run_number", "dry_run", dry_run=1),
    Case(
        "list_status_unknown",
        "status",
        operator="ListInvoicesOperator",
        kwargs={"status": "open", "period": "all"},
    ),
    Case(
        "list_customer_path",
        "customer_id",
        operator="ListInvoicesOperator",
        kwargs={"customer_id": "c/1", "period": "all"},
    ),
    Case(
        "list_date_half_pair",
        "date[between]",
        operator="ListInvoicesOperator",
        kwargs={"date": {"between": ("2026-01-01T00:00:00Z",)}},
    ),
    Case(
        "list_period_unknown",
        "period",
        operator="ListInvoicesOperator",
        kwargs={"period": "monthly"},
    ),
    Case(
        "list_no_interval",
        "period",
        operator="ListInvoicesOperator",
        kwargs={"status": "pending"},
    ),
    Case(
        "list_timezone_unknown",
        "timezone",
        operator="ListInvoicesOperator",
        kwargs={"period": "month", "timezone": "Europe/Atlantis"},
    ),
    Case(
        "list_max_amount_due_float",
        "max_amount_due[EUR]",
        operator="ListInvoicesOperator",
        kwargs={"period": "all", "max_amount_due": {"EUR": 10.5}},
    ),
    Case(
        "list_max_results_zero",
        "max_results",
        operator="ListInvoicesOperator",
        kwargs={"max_results": 0},
    ),
]


def test_the_matrix_is_big_and_every_case_is_named_once() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


def _connection(emulator: ChargebeeEmulator, overrides: dict[str, Any]) -> dict[str, Any]:
    connection: dict[str, Any] = json.loads(emulator.connection_json())
    for name, value in overrides.items():
        if name == "extra":
            connection["extra"].update(value)
        else:
            connection[name] = value
    connection = {k: v for k, v in connection.items() if v is not None}
    connection["extra"] = {k: v for k, v in connection["extra"].items() if v is not None}
    return connection


def _run(case: Case) -> None:
    """Build, render and execute, as Airflow's task runner would; returns if nothing failed."""
    if case.hook is not None:
        hook = ChargebeeHook(**case.hook)
        try:
            hook.close_invoice("inv_1", **case.call)
        finally:
            hook.close()
        return
    with DAG(
        f"bad_input_{case.id}",
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        render_template_as_native_obj=case.native,
    ) as dag:
        task = getattr(operators, case.operator)(task_id="act", **case.kwargs)
    ti = SimpleNamespace(map_index=-1, xcom_push=lambda **kwargs: None)
    context: Any = {
        "params": case.params,
        "dag": dag,
        "task": task,
        "run_id": "manual__m",
        "ti": ti,
    }
    task.render_template_fields(context)
    task.execute(context)


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input_is_refused_naming_the_parameter_and_nothing_is_sent(
    case: Case, chargebee_emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    emulator = chargebee_emulator
    emulator.seed(2, status="pending", prefix="inv_")
    connection = _connection(emulator, case.connection)
    monkeypatch.setenv("AIRFLOW_CONN_CHARGEBEE_DEFAULT", json.dumps(connection))

    with pytest.raises((ValueError, AirflowFailException)) as caught:
        _run(case)

    # Operators fail the task without retries; the validation error is its cause.
    error: BaseException = caught.value
    if isinstance(error, AirflowFailException):
        assert isinstance(error.__cause__, ChargebeeValidationError), error
        error = error.__cause__
    message = str(error)
    if isinstance(error, ChargebeeValidationError):
        assert error.param == case.param
        assert message.startswith(f"{case.param}: ")
    else:
        assert re.search(rf"(^|\W){re.escape(case.param)}\W", message), message
    assert len(message) < 400
    key = connection.get("password")
    if key and len(key) >= 4:
        assert key not in message and key not in repr(error)
    assert list(emulator.requests) == []


WRONG_XCOM_DAG = """
import pendulum
from airflow.sdk import DAG, task
from airflow_provider_cb.operators import CloseInvoiceOperator

with DAG("wrong_xcom_types", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
         default_args={"retries": 0}) as dag:
    @task
    def nothing():
        return None

    @task
    def mapping():
        return {"id": "inv_000001"}

    @task
    def empty():
        return []

    @task
    def twice():
        return ["inv_000001", "inv_000001"]

    sources = {"nothing": nothing(), "mapping": mapping(), "empty": empty(), "twice": twice()}
    for name, source in sources.items():
        pulled = "{{ ti.xcom_pull(task_ids='%s') }}" % name
        source >> CloseInvoiceOperator(task_id=f"one_from_{name}", invoice_id=pulled)
        source >> CloseInvoiceOperator(task_id=f"many_from_{name}", invoice_ids=pulled)
        CloseInvoiceOperator(task_id=f"arg_from_{name}", invoice_ids=source)
"""

WRONG_XCOM_EXPECTED = {
    # task id: (state, parameter named in the log when it fails)
    "one_from_nothing": ("failed", "invoice_id: rendered to 'None'"),
    "many_from_nothing": ("failed", "invoice_ids: must be a list of invoice ids, got NoneType"),
    "arg_from_nothing": ("failed", "invoice_ids: must be a list of invoice ids, got NoneType"),
    "one_from_mapping": ("failed", "invoice_id: \"{'id': 'inv_000001'}\" has characters"),
    "many_from_mapping": ("failed", "invoice_ids: must be a list of invoice ids, got dict"),
    "arg_from_mapping": ("failed", "invoice_ids: must be a list of invoice ids, got dict"),
    "one_from_empty": ("failed", "invoice_id: '[]' has characters"),
    # An empty list of ids is a month with nothing to do, not an error.
    "many_from_empty": ("success", None),
    "arg_from_empty": ("success", None),
    "one_from_twice": ("failed", "invoice_id: \"['inv_000001', 'inv_000001']\" has characters"),
    "many_from_twice": ("failed", "invoice_ids[1]: 'inv_000001' appears more than once"),
    "arg_from_twice": ("failed", "invoice_ids[1]: 'inv_000001' appears more than once"),
}


def test_xcom_of_the_wrong_type_fails_the_task_in_a_real_run_before_any_request(
    chargebee_dags: Any, chargebee_conn_env: ChargebeeEmulator, capfd: pytest.CaptureFixture[str]
) -> None:
    emulator = chargebee_conn_env
    emulator.seed(1, status="pending")
    dag_run = chargebee_dags.load("wrong_xcom_types", WRONG_XCOM_DAG).test()
    output = "".join(capfd.readouterr())

    states = {
        task_id: str(dag_run.get_task_instance(task_id).state) for task_id in WRONG_XCOM_EXPECTED
    }
    assert states == {task_id: state for task_id, (state, _) in WRONG_XCOM_EXPECTED.items()}
    for _state, text in WRONG_XCOM_EXPECTED.values():
        if text is not None:
            assert text in output
    assert list(emulator.requests) == []
