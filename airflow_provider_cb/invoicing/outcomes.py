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
                  whether a re-run can help. A request sent whose result is unknown is
                  ``failed``, retryable, with a message saying so
``would_act``     dry run: the action would act on the invoice; ``reason`` names what
                  Chargebee checks that the invoice does not show
``not_sent``      no request was sent for this invoice: the run stopped first, no
                  connection could be made, or the rate limit store was down first

A state conflict is decided by reading the invoice, never by the answer's wording:
the effect visible is ``already_done`` (or ``done`` when Chargebee replays this
key's success); a state the action cannot act on is ``not_eligible``; an invoice
still in the state the action needs may mean this key's first request is still
running, so the same request is sent again, reading back between tries, for a
bounded time (:meth:`ChargebeeClient.in_flight_until`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal, TypeGuard

from airflow_provider_cb.chargebee_api.answers import ApiResponse, error_code
from airflow_provider_cb.chargebee_api.errors import (
    ChargebeeError,
    ChargebeeValidationError,
    ConnectionFailedError,
    InvalidStateError,
    RateLimitStoreError,
)
from airflow_provider_cb.chargebee_api.settings import ApiVersion
from airflow_provider_cb.invoicing.action_table import (
    InvoiceAction,
    describe_invoice_state,
    ineligibility_reason,
    money_and_date,
    payment_in_progress,
)
from airflow_provider_cb.invoicing.clients import ChargebeeClient

Outcome = Literal["done", "already_done", "not_eligible", "failed", "would_act", "not_sent"]
FIRST_RESEND_DELAY_SECONDS = 1.0
MAX_RESEND_DELAY_SECONDS = 15.0
_RERUN_IS_SAFE = (
    "A re-run is safe: it sends the same idempotency key, then reads the invoice's state"
)


@dataclass
class ActionRecord:
    """What one action did to one invoice; JSON-serialisable through :meth:`as_dict`.

    Amounts and ``invoice_date`` carry v2's names whichever API version answered
    (:func:`~airflow_provider_cb.invoicing.action_table.money_and_date`); ``invoice``, when
    asked for, is the invoice as Chargebee sent it.
    """

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
    invoice_date: int | None = None
    invoice: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        record = asdict(self)
        if record["invoice"] is None:
            del record["invoice"]
        if self.action != "write_off" and record["write_off_amount"] is None:
            del record["write_off_amount"]
        return record

    def saw(
        self, invoice: Mapping[str, Any], *, include_invoice: bool, api_version: ApiVersion = "v2"
    ) -> None:
        """Take the state and amounts from an invoice Chargebee sent (no extra request)."""
        self.status_after = invoice.get("status")
        for name, value in money_and_date(invoice, api_version).items():
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
    """What the action would do to an invoice in this state, and why (not).

    ``already_done`` needs the action's own effect on the invoice, with the values
    this request would set (a dunning paused until another day is not this pause),
    and an effect a read can tell apart (a resumed dunning looks like one never
    paused). ``would_act`` carries what Chargebee checks that the invoice does not
    show; ``failed`` is an invoice Chargebee refuses for now (a payment in progress).
    """
    if action.effect_readable and action.done_when.matches(invoice):
        differing = action.differing_effect(invoice, body or {})
        if differing is None:
            return "already_done", None
        name, current, wanted = differing
        return "not_eligible", f"already done with {name} {current}, not {wanted}"
    if action.acts_on.matches(invoice):
        if action.refused_while_paying and payment_in_progress(invoice):
            return "failed", "a payment is in progress"
        return "would_act", action.checked_by_chargebee
    return "not_eligible", ineligibility_reason(action, invoice)


def classify(action: InvoiceAction, invoice: Mapping[str, Any]) -> Outcome:
    """What the action would do to an invoice in this state."""
    return judge(action, invoice)[0]


def _apply_judgement(
    action: InvoiceAction,
    record: ActionRecord,
    invoice: Mapping[str, Any],
    body: Mapping[str, Any],
) -> Outcome:
    outcome, reason = judge(action, invoice, body)
    record.outcome = outcome
    record.reason = reason
    if outcome in ("not_eligible", "failed") and reason is not None:
        record.message = (
            f"{action.name} needs {action.acts_on.describe()}; invoice {invoice.get('id')} "
            f"has {describe_invoice_state(invoice)} ({reason})"
        )
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

    Read errors become ``failed`` (or ``not_sent``) records, as they would for the real action.
    """
    record = ActionRecord(invoice_id=invoice_id, action=action.name, outcome="failed")
    try:
        invoice = client.get_invoice(invoice_id)
    except ChargebeeValidationError:
        raise
    except ChargebeeError as error:
        record.attempts = error.attempts
        return _failed(record, error, nothing_sent=error.attempts <= 1)
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
    """Act on one invoice and describe the result; API failures become records.

    Validation errors are raised, not recorded: they are the caller's mistake and
    must stop the task before anything is sent.
    """
    record = ActionRecord(invoice_id=invoice_id, action=action.name, outcome="failed")
    record.idempotency_key = idempotency_key
    body = action.build_body(fields)
    return _KeyedAction(client, action, record, fields, body, include_invoice).run()


class _KeyedAction:
    """One action on one invoice under one idempotency key, sent until the evidence decides."""

    def __init__(
        self,
        client: ChargebeeClient,
        action: InvoiceAction,
        record: ActionRecord,
        fields: Mapping[str, Any],
        body: Mapping[str, Any],
        include_invoice: bool,
    ) -> None:
        self.client = client
        self.action = action
        self.record = record
        self.fields = fields
        self.body = body
        self.include_invoice = include_invoice
        self.in_flight_until: float | None = None
        self.delay = FIRST_RESEND_DELAY_SECONDS
        self.confirming = False

    def run(self) -> ActionRecord:
        record = self.record
        while True:
            try:
                response = self.client.invoke(
                    self.action,
                    record.invoice_id,
                    fields=self.fields,
                    idempotency_key=record.idempotency_key,
                )
            except InvalidStateError as conflict:
                record.attempts += conflict.attempts
                if self._decided_by_reading(conflict):
                    return record
                continue
            except ChargebeeValidationError:
                raise
            except ChargebeeError as error:
                nothing_sent = record.attempts == 0 and (
                    error.attempts <= 1 or isinstance(error, RateLimitStoreError)
                )
                record.attempts += error.attempts
                return _failed(record, error, nothing_sent=nothing_sent)
            record.attempts += response.attempts
            return self._from_answer(response)

    def _from_answer(self, response: ApiResponse) -> ActionRecord:
        """A success answer: ``done`` when it (or the invoice read back) shows the effect."""
        record, action = self.record, self.action
        record.replayed = response.replayed
        record.api_error_code, record.retryable, record.message = None, False, None
        if record.status_before is None:
            record.status_before = _known_status_before(action)
        answered = response.body.get("invoice")
        if not response.replayed and self._shows_effect(answered):
            record.outcome = "done"
            record.reason = None
            record.saw(
                answered, include_invoice=self.include_invoice, api_version=action.api_version
            )
            return record
        # A replay may be old news, and an answer without the effect proves nothing: read back.
        seen = _describe_answer(answered, record.invoice_id)
        try:
            current = self.client.get_invoice(record.invoice_id)
        except ChargebeeError as error:
            _failed(record, error)
            record.message = f"the answer {seen}, and reading the invoice back failed: {error}"
            return record
        record.saw(current, include_invoice=self.include_invoice)
        if self._shows_effect(current):
            record.outcome, record.reason = "done", None
            if not response.replayed:
                record.message = f"the answer {seen}; the invoice read back shows the effect"
            return record
        if response.replayed:
            judged, why = judge(action, current, self.body)
            record.outcome = "not_eligible"
            record.reason = "changed since an earlier attempt acted: " + (
                why if judged == "not_eligible" and why else describe_invoice_state(current)
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
            f"Chargebee answered HTTP {response.status_code} but the answer {seen}, and the "
            f"invoice read back has {describe_invoice_state(current)}"
        )
        return record

    def _shows_effect(self, invoice: object) -> TypeGuard[dict[str, Any]]:
        """This request's own effect: the action's resulting state on this very invoice.

        The values sent are not compared here: Chargebee may store a date otherwise
        than sent, and an answer to this request shows what this request did.
        """
        return (
            isinstance(invoice, dict)
            and invoice.get("id") == self.record.invoice_id
            and self.action.done_when.matches(invoice)
        )

    def _decided_by_reading(self, conflict: InvalidStateError) -> bool:
        """Read the invoice after a state conflict; False means: send the same request again."""
        record, action = self.record, self.action
        try:
            current = self.client.get_invoice(record.invoice_id)
        except ChargebeeError as error:
            _failed(record, error)
            return True
        if record.status_before is None:
            record.status_before = current.get("status")
        record.saw(current, include_invoice=self.include_invoice)
        if self._shows_effect(current) and record.attempts > 1 and not self.confirming:
            # This key went out more than once: if an earlier try acted, Chargebee
            # replays its success to the same request. One more send tells.
            self.confirming = True
            return False
        outcome = _apply_judgement(action, record, current, self.body)
        if outcome == "would_act":
            return self._refused_or_waited(conflict, current)
        record.api_error_code = None if outcome == "already_done" else conflict.api_error_code
        record.retryable = False
        return True

    def _refused_or_waited(self, conflict: InvalidStateError, current: Mapping[str, Any]) -> bool:
        """Refused though the invoice looks eligible: a refusal, or our request still running."""
        record, action = self.record, self.action
        record.outcome, record.reason = "failed", None
        record.api_error_code = error_code(conflict)
        state = describe_invoice_state(current)
        hidden = f" ({action.checked_by_chargebee})" if action.checked_by_chargebee else ""
        if conflict.replayed:
            record.retryable = False
            record.message = (
                f"Chargebee refused {action.name} ({record.api_error_code}) and gave the same "
                f"answer again for this idempotency key, though the invoice has {state}, which "
                f"the action accepts: a condition the invoice does not show refused it{hidden}"
            )
            return True
        now = time.monotonic()
        if self.in_flight_until is None:
            self.in_flight_until = self.client.in_flight_until(sent_before=record.attempts > 1)
        if now < self.in_flight_until:
            time.sleep(min(self.delay, self.in_flight_until - now))
            self.delay = min(self.delay * 2, MAX_RESEND_DELAY_SECONDS)
            return False
        record.retryable = True
        record.message = (
            f"Chargebee answered {record.api_error_code} (HTTP {conflict.http_status}) to "
            f"{action.name}, sent {record.attempts} times with this key, though the invoice "
            f"still has {state}, which the action accepts: the first request with this key "
            "may still be running, or a condition the invoice does not show refused it"
            f"{hidden}. The outcome is unknown. {_RERUN_IS_SAFE}"
        )
        return True


def _describe_answer(answered: object, invoice_id: str) -> str:
    if not isinstance(answered, dict):
        return "carried no invoice object"
    if answered.get("id") != invoice_id:
        return f"named another invoice ({str(answered.get('id'))[:60]!r})"
    return f"showed {describe_invoice_state(answered)}"


def _failed(
    record: ActionRecord, error: ChargebeeError, *, nothing_sent: bool = False
) -> ActionRecord:
    """An error as the record's outcome: ``not_sent`` when the invoice's first request
    could not even connect, or could not be budgeted before any try went out
    (``nothing_sent``: no earlier request for it went out)."""
    unsent = nothing_sent and (
        isinstance(error, ConnectionFailedError)
        or (isinstance(error, RateLimitStoreError) and not error.sent)
    )
    record.outcome = "not_sent" if unsent else "failed"
    record.retryable = error.retryable
    record.message = str(error)
    record.api_error_code = error_code(error)
    return record
