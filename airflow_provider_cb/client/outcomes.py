"""State-aware invoice actions: what happened to one invoice, as a small record.

The action is sent first; the invoice is read only when the answer is not plain
evidence of this request's effect: a state conflict, a replayed answer (the
invoice may have changed since), or a success answer that does not show the
effect. Outcomes claim only what the evidence shows:

``done``          this task's request acted, and the answer or a read-back shows the effect
                  (``replayed`` when Chargebee answered with an earlier attempt's result)
``already_done``  the invoice already carried this action's own effect
``not_eligible``  the invoice is in a state the action cannot act on; ``reason`` says which
``failed``        an error, or an answer that did not show the effect; ``retryable`` says
                  whether a re-run can help
``would_act``     dry run: the action would act on the invoice
``not_sent``      no request was sent for the invoice: the run stopped first
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

from airflow_provider_cb.client.clients import ChargebeeClient
from airflow_provider_cb.client.errors import (
    ChargebeeAPIError,
    ChargebeeError,
    ChargebeeValidationError,
    InvalidStateError,
    RequestInProgressError,
)
from airflow_provider_cb.client.invoices import (
    InvoiceAction,
    describe_invoice_state,
    ineligibility_reason,
)

Outcome = Literal["done", "already_done", "not_eligible", "failed", "would_act", "not_sent"]
AMOUNT_FIELDS = ("customer_id", "currency_code", "total", "amount_due", "write_off_amount")


@dataclass
class ActionRecord:
    """What one action did to one invoice; JSON-serialisable through :meth:`as_dict`."""

    invoice_id: str
    action: str
    outcome: Outcome
    reason: str | None = None
    status_before: str | None = None
    status_after: str | None = None
    idempotency_key: str | None = None
    replayed: bool = False
    attempts: int = 0
    api_error_code: str | None = None
    message: str | None = None
    retryable: bool = False
    customer_id: str | None = None
    currency_code: str | None = None
    total: int | None = None
    amount_due: int | None = None
    write_off_amount: int | None = None
    invoice: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        if record["invoice"] is None:
            del record["invoice"]
        if self.action != "write_off" and record["write_off_amount"] is None:
            del record["write_off_amount"]
        return record

    def saw(self, invoice: Mapping[str, Any], *, include_invoice: bool) -> None:
        """Take the state and amounts from an invoice Chargebee sent (no extra request)."""
        self.status_after = invoice.get("status")
        for name in AMOUNT_FIELDS:
            value = invoice.get(name)
            if value is not None:
                setattr(self, name, value)
        self.invoice = dict(invoice) if include_invoice else None


def _known_status_before(action: InvoiceAction) -> str | None:
    """An action that acts on exactly one status tells us the status it started from."""
    statuses = action.acts_on.statuses
    return next(iter(statuses)) if len(statuses) == 1 else None


def judge(
    action: InvoiceAction, invoice: Mapping[str, Any], body: Mapping[str, Any] | None = None
) -> tuple[Outcome, str | None]:
    """What the action would do to an invoice in this state, and why not when it cannot.

    ``already_done`` needs the action's own effect on the invoice, with the values
    this request would set (a dunning paused until another date is not this pause).
    """
    if action.done_when.matches(invoice):
        differing = action.differing_effect(invoice, body or {})
        if differing is None:
            return "already_done", None
        name, current, wanted = differing
        return "not_eligible", f"already done with {name} {current}, not {wanted}"
    if action.acts_on.matches(invoice):
        return "would_act", None
    return "not_eligible", ineligibility_reason(action, invoice)


def classify(action: InvoiceAction, invoice: Mapping[str, Any]) -> Outcome:
    """What the action would do to an invoice in this state."""
    return judge(action, invoice)[0]


def _not_eligible_message(action: InvoiceAction, invoice: Mapping[str, Any], reason: str) -> str:
    return (
        f"{action.name} needs {action.acts_on.describe()}; invoice {invoice.get('id')} "
        f"has {describe_invoice_state(invoice)} ({reason})"
    )


def _apply_judgement(
    action: InvoiceAction,
    record: ActionRecord,
    invoice: Mapping[str, Any],
    body: Mapping[str, Any],
) -> Outcome:
    outcome, reason = judge(action, invoice, body)
    record.outcome = outcome
    if reason is not None:
        record.reason = reason
        record.message = _not_eligible_message(action, invoice, reason)
    return outcome


def preview_action(
    client: ChargebeeClient,
    action: InvoiceAction,
    invoice_id: str,
    *,
    include_invoice: bool,
    fields: Mapping[str, Any] | None = None,
) -> ActionRecord:
    """Dry run: read the invoice and say what the action would do. Sends no POST.

    Read errors become ``failed`` records, as they would for the real action.
    """
    record = ActionRecord(invoice_id=invoice_id, action=action.name, outcome="failed")
    try:
        invoice = client.get_invoice(invoice_id)
    except ChargebeeValidationError:
        raise
    except ChargebeeError as error:
        return _failed(record, error)
    record.attempts = 1
    record.saw(invoice, include_invoice=include_invoice)
    record.status_before = invoice.get("status")
    _apply_judgement(action, record, invoice, action.build_body(fields or {}))
    return record


def perform_action(
    client: ChargebeeClient,
    action: InvoiceAction,
    invoice_id: str,
    *,
    fields: Mapping[str, Any],
    idempotency_key: str,
    include_invoice: bool = False,
) -> ActionRecord:
    """Act on one invoice and describe the result; API failures become ``failed`` records.

    Validation errors are raised, not recorded: they are the caller's mistake and
    must stop the task before anything is sent.
    """
    record = ActionRecord(invoice_id=invoice_id, action=action.name, outcome="failed")
    record.idempotency_key = idempotency_key
    body = action.build_body(fields)
    try:
        response = client.invoke(action, invoice_id, fields=fields, idempotency_key=idempotency_key)
    except RequestInProgressError as in_flight:
        return _failed(record, in_flight)
    except InvalidStateError as conflict:
        record.attempts = conflict.attempts
        return _resolve_conflict(client, action, record, conflict, body, include_invoice)
    except ChargebeeValidationError:
        raise
    except ChargebeeError as error:
        return _failed(record, error)
    record.attempts = response.attempts
    record.replayed = response.replayed
    record.status_before = _known_status_before(action)
    answered = response.body.get("invoice")
    if (
        not response.replayed
        and isinstance(answered, dict)
        and _shows_effect(action, answered, invoice_id, body)
    ):
        record.outcome = "done"
        record.saw(answered, include_invoice=include_invoice)
        return record
    # A replay may be old news, and an answer without the effect proves nothing: read back.
    seen = _describe_answer(answered, invoice_id)
    try:
        current = client.get_invoice(invoice_id)
    except ChargebeeError as error:
        _failed(record, error)
        record.message = f"the answer {seen}, and reading the invoice back failed: {error}"
        return record
    record.saw(current, include_invoice=include_invoice)
    if _apply_judgement(action, record, current, body) == "already_done":
        record.outcome = "done"
        if not response.replayed:
            record.message = f"the answer {seen}; the invoice read back shows the effect"
        return record
    if response.replayed:
        record.outcome = "not_eligible"
        record.reason = "changed since an earlier attempt acted: " + (
            record.reason or describe_invoice_state(current)
        )
        record.message = (
            f"Chargebee replayed an earlier attempt's {action.name}, but the invoice has since "
            f"changed: it has {describe_invoice_state(current)}"
        )
        return record
    record.outcome = "failed"
    record.reason = None
    record.api_error_code = "unexpected_answer"
    record.message = (
        f"Chargebee answered HTTP {response.status_code} but the answer {seen}, and the invoice "
        f"read back has {describe_invoice_state(current)}"
    )
    return record


def _shows_effect(
    action: InvoiceAction, answered: Mapping[str, Any], invoice_id: str, body: Mapping[str, Any]
) -> bool:
    return (
        answered.get("id") == invoice_id
        and action.done_when.matches(answered)
        and action.differing_effect(answered, body) is None
    )


def _describe_answer(answered: object, invoice_id: str) -> str:
    if not isinstance(answered, dict):
        return "carried no invoice object"
    if answered.get("id") != invoice_id:
        return f"named another invoice ({str(answered.get('id'))[:60]!r})"
    return f"showed {describe_invoice_state(answered)}"


def _failed(record: ActionRecord, error: ChargebeeError) -> ActionRecord:
    record.outcome = "failed"
    record.attempts = error.attempts
    record.retryable = error.retryable
    record.message = str(error)
    if isinstance(error, ChargebeeAPIError):
        record.api_error_code = error.api_error_code or f"http_{error.http_status}"
    else:
        record.api_error_code = "transport_error"
    return record


def _resolve_conflict(
    client: ChargebeeClient,
    action: InvoiceAction,
    record: ActionRecord,
    conflict: InvalidStateError,
    body: Mapping[str, Any],
    include_invoice: bool,
) -> ActionRecord:
    try:
        invoice = client.get_invoice(record.invoice_id)
    except ChargebeeError as error:
        return _failed(record, error)
    record.status_before = invoice.get("status")
    record.saw(invoice, include_invoice=include_invoice)
    outcome = _apply_judgement(action, record, invoice, body)
    if outcome == "not_eligible":
        record.api_error_code = conflict.api_error_code
    elif outcome == "would_act":
        # Chargebee refused although the invoice looks eligible (a site setting we
        # cannot see, e.g. overriding the invoice date is not allowed): keep its answer.
        _failed(record, conflict)
    return record
