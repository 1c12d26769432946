"""The action operator's parts, each without a DAG run: inputs, the try, reports, endings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.invoicing.action_table import CLOSE
from airflow_provider_cb.invoicing.audit_report import markdown_text
from airflow_provider_cb.invoicing.bulk_runs import BulkSummary
from airflow_provider_cb.invoicing.clients import ChargebeeClient
from airflow_provider_cb.invoicing.journal import Journal, MemoryStore
from airflow_provider_cb.invoicing.outcomes import ActionRecord
from airflow_provider_cb.operators import CloseInvoiceOperator
from airflow_provider_cb.operators.attempt import Acting, TryPolicy, run_try
from airflow_provider_cb.operators.report import ReportRequest, report_targets, write_report
from airflow_provider_cb.operators.task_state import generation_of
from airflow_provider_cb.testing import ChargebeeEmulator


def close_operator(**kwargs: Any) -> CloseInvoiceOperator:
    return CloseInvoiceOperator(task_id="close", **{"invoice_ids": ["inv_000001"], **kwargs})


@pytest.mark.parametrize("flag", ["dry_run", "include_invoice", "remove_general_note"])
@pytest.mark.parametrize(("text", "expected"), [("TRUE", True), ("false", False), (True, True)])
def test_every_boolean_parameter_reads_the_same_text_the_same_way(
    flag: str, text: Any, expected: bool
) -> None:
    operator = close_operator(**{flag: text})
    inputs = operator.inputs()
    got = {
        "dry_run": inputs.dry_run,
        "include_invoice": inputs.include_invoice,
        "remove_general_note": inputs.fields.get("remove_general_note"),
    }[flag]
    assert got is expected


@pytest.mark.parametrize("flag", ["dry_run", "include_invoice", "remove_general_note"])
def test_every_boolean_parameter_refuses_the_same_text(flag: str) -> None:
    with pytest.raises(ChargebeeValidationError, match=flag):
        close_operator(**{flag: "yes"}).inputs()


def test_a_report_path_is_checked_before_anything_is_sent() -> None:
    with pytest.raises(ChargebeeValidationError, match="report_path"):
        close_operator(report_path="/tmp/report.txt").inputs()


def test_each_try_and_chunk_gets_its_own_report_name() -> None:
    run_id = "scheduled__2026-11-01T03:00:00+00:00"
    assert report_targets("s3://b/close.csv", -1, run_id, 2) == (
        "s3://b/close.scheduled__2026-11-01T03-00-00-00-00.try-2.csv",
        "s3://b/close.scheduled__2026-11-01T03-00-00-00-00.try-2.md",
    )
    assert report_targets("/r/close.csv", 3, "manual__x", 1)[0] == "/r/close-3.manual__x.try-1.csv"


def test_a_report_that_cannot_be_written_is_returned_not_raised(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    request = ReportRequest(str(tmp_path / "file" / "close.csv"), -1, "r", 1, [1], "close", {})
    written = write_report(request, [(ActionRecord("inv_1", "close", "done"), 1)])
    assert written["error"] is not None and written["path"].startswith(str(tmp_path / "file"))


def test_user_text_is_inert_markdown() -> None:
    assert markdown_text("a\n| done | 0 |\n# x <b>[l](u)</b>") == (
        r"a \| done \| 0 \| \# x &lt;b&gt;\[l\]\(u\)&lt;/b&gt;"
    )


@pytest.mark.parametrize(
    ("try_number", "max_tries", "retries", "generation"),
    [(1, 2, 2, 1), (3, 2, 2, 1), (4, 5, 2, 4), (1, None, 0, 1)],
)
def test_a_clear_changes_the_generation_a_retry_does_not(
    try_number: int, max_tries: Any, retries: int, generation: int
) -> None:
    assert generation_of(try_number, max_tries, retries) == generation


def client_for(emulator: ChargebeeEmulator) -> ChargebeeClient:
    return ChargebeeClient(
        ClientSettings(
            api_key="test_key", site="acme", base_url=emulator.base_url, requests_per_minute=60_000
        )
    )


def a_try(client: ChargebeeClient, store: MemoryStore, try_number: int, dry_run: bool = False):
    ids = [f"inv_{n:06d}" for n in range(1, 6)]
    keys = {i: f"af-close-unit-{i}" for i in ids}
    journal = Journal(store, action="close", try_number=try_number, generation=1).open()
    summary = BulkSummary(action="close", total=len(ids), listener=journal.record)
    acting = Acting(client, CLOSE, {}, keys, dry_run=dry_run, include_invoice=False)
    policy = TryPolicy(max_workers=2, canary_size=None, fail_fast=False, is_failure=lambda r: False)
    run_try(acting, journal, ids, summary, policy)
    journal.close()
    return journal, summary


def test_a_preview_try_sends_no_post(chargebee_emulator: ChargebeeEmulator) -> None:
    chargebee_emulator.seed(5, status="pending")
    with client_for(chargebee_emulator) as client:
        _, summary = a_try(client, MemoryStore(), 1, dry_run=True)
    assert summary.counts == {"would_act": 5}
    assert [r.method for r in chargebee_emulator.requests] == ["GET"] * 5


def test_a_second_try_reads_back_what_was_in_flight_and_sends_only_the_rest(
    chargebee_emulator: ChargebeeEmulator,
) -> None:
    chargebee_emulator.seed(5, status="pending")
    store = MemoryStore()
    first = Journal(store, action="close", try_number=1, generation=1).open()
    feed = first.ahead([f"inv_{n:06d}" for n in range(1, 6)], {})
    next(feed), next(feed)  # two invoices written ahead, then the worker died
    chargebee_emulator.set_status("inv_000001", "payment_due")  # its close had landed
    with client_for(chargebee_emulator) as client:
        journal, summary = a_try(client, store, 2)
    methods = [r.method for r in chargebee_emulator.requests]
    # One list page reads back the five written ahead; four are still pending: sent.
    assert methods == ["GET"] + ["POST"] * 4
    entries = journal.entries()
    assert entries["inv_000001"].sent_in_try == 1 and entries["inv_000001"].record is not None
    assert entries["inv_000001"].record["outcome"] == "done"
    assert summary.counts == {"done": 5}


class FakeTI:
    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


def bulk_result(*records: dict[str, Any]) -> dict[str, Any]:
    counts: dict[str, int] = {}
    for record in records:
        counts[record["outcome"]] = counts.get(record["outcome"], 0) + 1
    return {
        "total": len(records),
        "counts": counts,
        "records": list(records),
        "stopped_early": False,
    }


def failed(invoice_id: str, retryable: bool) -> dict[str, Any]:
    return {
        "invoice_id": invoice_id,
        "outcome": "failed",
        "reason": None,
        "api_error_code": "http_503" if retryable else "resource_not_found",
        "message": "x",
        "retryable": retryable,
    }


def test_the_bulk_verdict_keeps_the_summary_and_never_hides_a_permanent_failure() -> None:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from airflow_provider_cb.operators.endings import RESULT_XCOM_KEY, Verdicts

    verdicts = Verdicts("succeed", "fail", "fail_at_end")
    ti = FakeTI()
    with pytest.raises(AirflowFailException, match="inv_2 failed"):
        verdicts.end_bulk({"ti": ti}, bulk_result(failed("inv_2", False)))  # type: ignore[arg-type]
    assert ti.pushed[RESULT_XCOM_KEY]["counts"] == {"failed": 1}
    with pytest.raises(AirflowException) as retryable:
        verdicts.end_bulk({"ti": ti}, bulk_result(failed("inv_3", True)))  # type: ignore[arg-type]
    assert not isinstance(retryable.value, AirflowFailException)
    done = bulk_result({"invoice_id": "inv_1", "outcome": "done"})
    assert verdicts.end_bulk({"ti": ti}, done) is done  # type: ignore[arg-type]


def test_a_report_failure_fails_the_task_retryably_naming_where_the_summary_is() -> None:
    from airflow.sdk.exceptions import AirflowException, AirflowFailException

    from airflow_provider_cb.operators.endings import fail_for_report

    fail_for_report("close", {"report_error": None})
    with pytest.raises(AirflowException, match="chargebee_result") as raised:
        fail_for_report("close", {"report_error": "OSError: No space left on device"})
    assert not isinstance(raised.value, AirflowFailException)


def test_a_store_that_fills_up_stops_the_run_and_the_summary_still_has_every_invoice(
    chargebee_emulator: ChargebeeEmulator,
) -> None:
    from airflow_provider_cb.invoicing.journal import JournalUnavailableError
    from airflow_provider_cb.invoicing.tasksummary import whole_task_records, whole_task_summary

    class FillsUp(MemoryStore):
        """Takes a few writes, then says the disk is full (as SQLite on a full disk does)."""

        def set(self, key: str, value: Any) -> None:
            if len(self.values) >= 3:
                raise OSError(28, "No space left on device")
            super().set(key, value)

    ids = chargebee_emulator.seed(250, status="pending")
    keys = {i: f"af-close-full-{i}" for i in ids}
    journal = Journal(FillsUp(), action="close", try_number=1, generation=1).open()
    summary = BulkSummary(action="close", total=len(ids), listener=journal.record)
    with client_for(chargebee_emulator) as client:
        acting = Acting(client, CLOSE, {}, keys, dry_run=False, include_invoice=False)
        policy = TryPolicy(
            max_workers=4, canary_size=None, fail_fast=False, is_failure=lambda r: False
        )
        with pytest.raises(JournalUnavailableError, match="No space left"):
            run_try(acting, journal, ids, summary, policy)
    unsent = journal.close()
    result = whole_task_summary(journal, whole_task_records(journal, ids, unsent, keys), summary)
    # Two batches were written ahead and handed out; the third could not be written: not sent.
    counts = result["counts"]
    assert counts["not_sent"] == 50 and counts["done"] + counts.get("failed", 0) == 200
    # What the summary calls done was applied; what it calls failed may or may not have been.
    applied = chargebee_emulator.count_applied("close")
    assert counts["done"] <= applied <= 200
    # Requests still in flight when the run stopped are failed, retryable: a retry reads them.
    assert all(r["api_error_code"] in ("interrupted", "in_flight") for r in result["records"])
    assert all(r["retryable"] for r in result["records"])
    assert result["processed"] == 200 and journal.error is not None


def test_a_record_keeps_the_full_invoice_when_asked_and_messages_say_dry_run(
    chargebee_emulator: ChargebeeEmulator,
) -> None:
    from airflow_provider_cb.invoicing.audit_report import result_message
    from airflow_provider_cb.invoicing.tasksummary import whole_task_records

    ids = chargebee_emulator.seed(1, status="pending")
    journal = Journal(MemoryStore(), action="close", try_number=1, generation=1).open()
    summary = BulkSummary(action="close", total=1, listener=journal.record)
    with client_for(chargebee_emulator) as client:
        acting = Acting(client, CLOSE, {}, {ids[0]: "k"}, dry_run=True, include_invoice=True)
        policy = TryPolicy(
            max_workers=1, canary_size=None, fail_fast=False, is_failure=lambda r: False
        )
        run_try(acting, journal, ids, summary, policy)
    ((record, _),) = whole_task_records(journal, ids, journal.close(), {})
    assert record.invoice is not None and record.invoice["id"] == ids[0]
    message = result_message({**record.as_dict(), "dry_run": True})
    assert message.startswith("DRY RUN: Chargebee close")
