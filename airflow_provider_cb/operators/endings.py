"""How an action task ends: the verdict on each outcome, and the result it leaves behind.

The verdict follows the task's ``if_already_done``, ``if_not_eligible`` and
``failure_policy``. A failing task keeps its record or summary in XCom, since its
return value is lost; a finished one describes itself in its outlets' asset events,
which say ``dry_run: true`` for a preview: downstream jobs must skip those.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from airflow.sdk.exceptions import AirflowException, AirflowFailException, AirflowSkipException

from airflow_provider_cb.invoicing.money import summed_amount

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_cb.invoicing.journal import Journal
    from airflow_provider_cb.invoicing.outcomes import ActionRecord

IF_ALREADY_DONE = ("succeed", "skip", "fail")
IF_NOT_ELIGIBLE = ("fail", "skip", "succeed")
FAILURE_POLICIES = ("fail_at_end", "fail_fast", "record")
RESULT_XCOM_KEY = "chargebee_result"
LISTED_FAILURES = 20


def _choice(param: str, value: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ValueError(f"{param}: {value!r} is not one of {', '.join(choices)}")
    return value


@dataclass(frozen=True)
class Verdicts:
    """The task's choices per outcome; checked when the operator is built."""

    if_already_done: str
    if_not_eligible: str
    failure_policy: str

    def __post_init__(self) -> None:
        _choice("if_already_done", self.if_already_done, IF_ALREADY_DONE)
        _choice("if_not_eligible", self.if_not_eligible, IF_NOT_ELIGIBLE)
        _choice("failure_policy", self.failure_policy, FAILURE_POLICIES)

    def choice(self, outcome: str) -> str:
        """``succeed``, ``skip`` or ``fail`` for one outcome."""
        if outcome in ("failed", "not_sent"):
            return "fail"
        return {"already_done": self.if_already_done, "not_eligible": self.if_not_eligible}.get(
            outcome, "succeed"
        )

    def is_failure(self, record: ActionRecord) -> bool:
        return self.choice(record.outcome) == "fail"

    def end_single(
        self, context: Context, record: ActionRecord, result: dict[str, Any]
    ) -> dict[str, Any]:
        """The result of a single-invoice task, or the exception that ends it."""
        choice = self.choice(record.outcome)
        if choice == "succeed":
            return result
        push_result(context, result)
        if record.outcome in ("failed", "not_sent"):
            if record.retryable:
                raise AirflowException(f"{record.invoice_id}: {record.message}")
            raise AirflowFailException(f"{record.invoice_id}: {record.message}")
        if choice == "skip":
            raise AirflowSkipException(f"{record.invoice_id}: {record.outcome}")
        detail = record.message or f"already in the target state ({record.status_after})"
        raise AirflowFailException(f"{record.invoice_id}: {record.outcome}: {detail}")

    def end_bulk(
        self,
        context: Context,
        result: dict[str, Any],
        site_failure: ActionRecord | None = None,
    ) -> dict[str, Any]:
        """The whole task's summary, or the exception listing what failed (or, after a
        failure every invoice would meet, the one that stopped the run)."""
        counts: Mapping[str, int] = result["counts"]
        failure_count = sum(
            count for outcome, count in counts.items() if self.choice(outcome) == "fail"
        )
        if not (failure_count or result["stopped_early"]) or self.failure_policy == "record":
            return result
        push_result(context, result)
        if site_failure is not None:
            unsent = counts.get("not_sent", 0)
            message = (
                f"stopped at the first failure every invoice would meet: {site_failure.message}. "
                f"{unsent} of {result['total']} invoices were not sent. "
                "A retry acts only on what is not done yet."
            )
            raise (AirflowException if site_failure.retryable else AirflowFailException)(message)
        failures = [r for r in result["records"] if self.choice(r["outcome"]) == "fail"]
        listed = "; ".join(
            f"{r['invoice_id']} {r['outcome']} ({_why(r)})" for r in failures[:LISTED_FAILURES]
        )
        more = (
            f" and {failure_count - LISTED_FAILURES} more"
            if failure_count > LISTED_FAILURES
            else ""
        )
        message = (
            f"{failure_count} of {result['total']} invoices failed: {listed}{more}. "
            "A retry acts only on what is not done yet."
        )
        if any(r["retryable"] for r in failures):
            raise AirflowException(message)
        raise AirflowFailException(message)


def _why(record: Mapping[str, Any]) -> Any:
    return record.get("reason") or record.get("api_error_code") or record.get("message")


def single_result(journal: Journal, row: tuple[ActionRecord, int | None]) -> dict[str, Any]:
    """A single-invoice task's record over every try, and which try sent its request."""
    record, sent_in_try = row
    return {
        **record.as_dict(),
        "sent_in_try": sent_in_try,
        "try_number": journal.try_number,
        "tries": journal.tries,
    }


def fail_for_report(task_id: str, result: Mapping[str, Any]) -> None:
    """A report that could not be written fails the task, retryably, after its summary is kept.

    Called once the verdict on the invoices let the task succeed: a permanent
    failure is never hidden behind this retryable one. A retry sends nothing
    already done and writes the report again, covering every try.
    """
    if result.get("report_error"):
        raise AirflowException(
            f"{task_id}: the report could not be written ({result['report_error']}); the summary "
            f"is in XCom under {RESULT_XCOM_KEY!r}. A retry sends nothing already done and "
            "writes the report again"
        )


def push_result(context: Context, result: dict[str, Any]) -> None:
    """Keep the record of a failed task in XCom, since its return value is lost."""
    ti = context.get("ti")
    if ti is not None:
        ti.xcom_push(key=RESULT_XCOM_KEY, value=result)


def asset_event_extra(
    result: Mapping[str, Any], *, run_id: str, period: str | None = None
) -> dict[str, Any]:
    """What a downstream DAG learns from the event: the period, counts, totals, the report."""
    counts = result["counts"] if "counts" in result else {result["outcome"]: 1}
    totals = result.get("totals")
    amount = summed_amount(
        str(result["action"]),
        total=result.get("total"),
        amount_due=result.get("amount_due"),
        write_off_amount=result.get("write_off_amount"),
    )
    if totals is None and result.get("currency_code") and amount is not None:
        # One invoice sums what a bulk task of it would: a write-off, the amount written off.
        totals = {result["outcome"]: {result["currency_code"]: amount}}
    return {
        "source": "chargebee",
        "action": result["action"],
        "run_id": run_id,
        "period": period,
        "dry_run": bool(result.get("dry_run", False)),
        "counts": counts,
        "totals": totals or {},
        "report_path": result.get("report_path"),
    }


def selection_period(plans: Sequence[Any]) -> str | None:
    """The range the upstream selection listed (its ``chargebee_plan``), when exactly one did.

    None when the invoice ids came from anywhere else: an event claims no period it
    cannot show.
    """
    ranges = {plan["range"] for plan in plans if isinstance(plan, Mapping) and plan.get("range")}
    return ranges.pop() if len(ranges) == 1 else None
