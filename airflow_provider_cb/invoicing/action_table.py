"""The invoice actions, as data.

Each :class:`InvoiceAction` says where the action is sent, which body fields it
takes and how they are checked, which invoices it can act on and what "already
done" looks like. The hook, the operators, the emulator and the docs all read
:data:`ACTIONS`; adding an endpoint means adding one entry here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from airflow_provider_cb.chargebee_api import validation
from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.chargebee_api.settings import ApiVersion

INVOICE_STATUSES = ("paid", "posted", "payment_due", "not_paid", "voided", "pending")
DUNNING_STATUSES = ("in_progress", "exhausted", "stopped", "success")
CLOSED_STATUSES = frozenset({"paid", "posted", "payment_due", "not_paid"})


@dataclass(frozen=True)
class BodyField:
    """One documented body field and the check that turns user input into a wire value."""

    name: str
    check: Callable[[str, Any], Any]
    required: bool = False
    doc: str = ""


def text_field(name: str, max_length: int, doc: str) -> BodyField:
    return BodyField(name, lambda p, v: validation.check_text(p, v, max_length), doc=doc)


def timestamp_field(name: str, when: str, doc: str, *, required: bool = False) -> BodyField:
    return BodyField(
        name, lambda p, v: validation.check_timestamp(p, v, when=when), required=required, doc=doc
    )


COMMENT = text_field(
    "comment", 300, "Note recorded in the invoice's history: a string of at most 300 characters."
)


@dataclass(frozen=True)
class InvoiceState:
    """A condition on an invoice: its status, and optionally its dunning and write-off.

    Only fields of Chargebee's Invoice object are read (docs/fidelity.md lists them
    with their sources). Auto collection is not one: it is set on the customer or
    the subscription, so the dunning actions leave that check to Chargebee.

    As ``done_when`` it is the evidence that the action's own effect is on the
    invoice, not merely a status it could have reached another way: a ``paid``
    invoice counts as written off only with a ``write_off_amount``.
    """

    statuses: frozenset[str]
    dunning_paused: bool | None = None
    dunning_statuses: frozenset[str] | None = None
    written_off: bool | None = None

    def matches(self, invoice: Mapping[str, Any]) -> bool:
        if invoice.get("status") not in self.statuses:
            return False
        if self.dunning_statuses is not None and (
            invoice.get("dunning_status") not in self.dunning_statuses
        ):
            return False
        if self.written_off is not None and is_written_off(invoice) != self.written_off:
            return False
        return self.dunning_paused is None or is_dunning_paused(invoice) == self.dunning_paused

    def describe(self) -> str:
        text = "status " + " or ".join(sorted(self.statuses))
        if self.dunning_statuses is not None:
            text += ", dunning " + " or ".join(sorted(self.dunning_statuses))
        if self.written_off is not None:
            text += ", " + ("written off" if self.written_off else "not written off")
        if self.dunning_paused is not None:
            text += ", dunning " + ("paused" if self.dunning_paused else "not paused")
        return text


def is_written_off(invoice: Mapping[str, Any]) -> bool:
    """A write-off leaves its amount on the invoice; a customer's payment leaves none."""
    amount = invoice.get("write_off_amount")
    return isinstance(amount, int | float) and amount > 0


def is_dunning_paused(invoice: Mapping[str, Any]) -> bool:
    """Chargebee marks a paused dunning by the invoice's expected payment date."""
    return (
        invoice.get("status") == "payment_due" and invoice.get("expected_payment_date") is not None
    )


def payment_in_progress(invoice: Mapping[str, Any]) -> bool:
    """A linked payment still running: ``linked_payments[].txn_status`` is ``in_progress``."""
    payments = invoice.get("linked_payments")
    if not isinstance(payments, list):
        return False
    return any(
        isinstance(payment, dict) and payment.get("txn_status") == "in_progress"
        for payment in payments
    )


def describe_invoice_state(invoice: Mapping[str, Any]) -> str:
    """A short text naming an invoice's state, for records and error messages."""
    parts = [f"status {invoice.get('status')}"]
    if invoice.get("dunning_status"):
        parts.append(f"dunning {invoice['dunning_status']}")
    if is_dunning_paused(invoice):
        parts.append("dunning paused")
    if is_written_off(invoice):
        parts.append(f"written off {invoice['write_off_amount']}")
    if payment_in_progress(invoice):
        parts.append("a payment in progress")
    return ", ".join(parts)


def ineligibility_reason(action: InvoiceAction, invoice: Mapping[str, Any]) -> str:
    """Why the action cannot act on this invoice, in the words an accountant reads."""
    status = invoice.get("status")
    if status == "voided":
        return "voided"
    if status == "paid":
        return "written off" if is_written_off(invoice) else "paid by the customer"
    if status == "pending" and "pending" not in action.acts_on.statuses:
        return "not closed yet (pending)"
    if status not in action.acts_on.statuses:
        if status == "not_paid" and invoice.get("dunning_status") == "exhausted":
            return "dunning exhausted (not_paid)"
        return f"status {status}"
    wanted = action.acts_on
    if wanted.dunning_paused is not None and is_dunning_paused(invoice) != wanted.dunning_paused:
        return "dunning paused" if is_dunning_paused(invoice) else "dunning not paused"
    return describe_invoice_state(invoice)


V2_NAMES: Mapping[str, str] = {
    "customer_id": "customer_id",
    "currency_code": "currency_code",
    "total": "total",
    "amount_due": "amount_due",
    "write_off_amount": "write_off_amount",
    "invoice_date": "date",
}
"""A record's field -> the v2 Invoice attribute it is read from."""
V1_NAMES: Mapping[str, str] = {
    **{ours: theirs for ours, theirs in V2_NAMES.items() if ours != "write_off_amount"},
    "total": "amount",
    "invoice_date": "end_date",
}
"""A record's field -> the v1 Invoice attribute it is read from (v1 has no write-off amount)."""


def money_and_date(invoice: Mapping[str, Any], api_version: ApiVersion) -> dict[str, Any]:
    """What a record keeps of an invoice, under v2's names whichever version answered.

    v1 (``collect``) names the total ``amount`` and the document date ``end_date``
    and has no ``write_off_amount`` (the v1 specification's Invoice schema); v2
    names them ``total`` and ``date``. This is the one place that knows.
    """
    names = V1_NAMES if api_version == "v1" else V2_NAMES
    return {ours: invoice.get(theirs) for ours, theirs in names.items()}


@dataclass(frozen=True)
class InvoiceAction:
    """One POST /invoices/{id}/<endpoint> action."""

    name: str
    endpoint: str
    api_version: ApiVersion
    fields: tuple[BodyField, ...]
    acts_on: InvoiceState
    done_when: InvoiceState
    leads_to: str
    summary: str
    effect_fields: tuple[str, ...] = ()
    """Body fields the invoice must carry as sent for the effect to be this request's."""
    effect_tolerance: int = 0
    """Seconds an effect field's timestamp may differ from the request's and still be it:
    Chargebee may store a date at another second or time of day than the one sent."""
    effect_readable: bool = True
    """Whether a read alone tells this action's effect from a state reached otherwise.
    A resumed dunning and one never paused look alike, so resume cannot claim
    ``already_done`` from a read: only its own answer (or its replay) shows it acted."""
    checked_by_chargebee: str | None = None
    """A precondition the Invoice object does not show, so Chargebee alone decides it."""
    refused_while_paying: bool = False
    """Chargebee refuses the action while a linked payment is in progress."""

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    def differing_effect(
        self, invoice: Mapping[str, Any], body: Mapping[str, Any]
    ) -> tuple[str, Any, Any] | None:
        """The first effect field whose value on the invoice differs from the request's."""
        for name in self.effect_fields:
            if name not in body:
                continue
            current, wanted = invoice.get(name), body[name]
            if not _same_effect(current, wanted, self.effect_tolerance):
                return name, current, wanted
        return None

    def path(self, invoice_id: str) -> str:
        safe_id = quote(validation.check_id("invoice_id", invoice_id), safe="")
        return f"/invoices/{safe_id}/{self.endpoint}"

    def build_body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """Check every field; drop the ones left as None. Raises before anything is sent."""
        unknown = set(values) - set(self.field_names)
        if unknown:
            raise ChargebeeValidationError(
                sorted(unknown)[0], f"is not a field of the {self.name} action"
            )
        body: dict[str, Any] = {}
        for field in self.fields:
            value = values.get(field.name)
            if value is None:
                if field.required:
                    raise ChargebeeValidationError(field.name, "is required")
                continue
            body[field.name] = field.check(field.name, value)
        return body


CLOSE = InvoiceAction(
    name="close",
    endpoint="close",
    api_version="v2",
    fields=(
        COMMENT,
        text_field(
            "invoice_note",
            2000,
            "Note printed on the invoice: a string of at most 2,000 characters.",
        ),
        BodyField(
            "remove_general_note",
            validation.check_bool,
            doc='Drop the site\'s general note from this invoice: a bool, or `"true"`/`"false"` '
            "from a template.",
        ),
        timestamp_field(
            "invoice_date",
            "past",
            "Date to stamp on the invoice (a timestamp): **not in the future**, nor before the "
            "invoice was generated.",
        ),
        BodyField(
            "notes_to_remove",
            validation.check_notes_to_remove,
            doc='Notes to drop: a list of `{"entity_type": ..., "entity_id": ...}`, no '
            "duplicates; sent as `notes_to_remove[entity_type][i]`.",
        ),
    ),
    acts_on=InvoiceState(frozenset({"pending"})),
    done_when=InvoiceState(CLOSED_STATUSES),
    leads_to="payment_due",
    summary="Finalize a pending invoice: it becomes `payment_due` (or `paid`).",
)

COLLECT = InvoiceAction(
    name="collect",
    endpoint="collect",
    api_version="v1",
    fields=(),
    acts_on=InvoiceState(frozenset({"pending"})),
    done_when=InvoiceState(CLOSED_STATUSES),
    leads_to="payment_due",
    summary="Close a pending invoice with a line item through the v1 endpoint: it becomes "
    "`payment_due` (or `paid`).",
)

WRITE_OFF = InvoiceAction(
    name="write_off",
    endpoint="write_off",
    api_version="v2",
    fields=(COMMENT,),
    acts_on=InvoiceState(frozenset({"payment_due", "not_paid", "posted"})),
    done_when=InvoiceState(frozenset({"paid"}), written_off=True),
    leads_to="paid",
    summary="Mark an unpaid invoice `paid` with a write-off credit note.",
    refused_while_paying=True,
)

AUTO_COLLECTION_NOTE = "Chargebee checks auto collection on the customer or subscription"
"""The dunning actions' precondition that no invoice field shows (docs/fidelity.md)."""

STOP_DUNNING = InvoiceAction(
    name="stop_dunning",
    endpoint="stop_dunning",
    api_version="v2",
    fields=(COMMENT,),
    acts_on=InvoiceState(frozenset({"payment_due"})),
    done_when=InvoiceState(frozenset({"not_paid"}), dunning_statuses=frozenset({"stopped"})),
    leads_to="not_paid",
    summary="Stop dunning: the invoice becomes `not_paid`.",
    checked_by_chargebee=AUTO_COLLECTION_NOTE,
)

PAUSE_DUNNING = InvoiceAction(
    name="pause_dunning",
    endpoint="pause_dunning",
    api_version="v2",
    fields=(
        timestamp_field(
            "expected_payment_date",
            "future",
            "Date until which dunning is paused (a timestamp): **must be in the future**.",
            required=True,
        ),
        COMMENT,
    ),
    acts_on=InvoiceState(frozenset({"payment_due"}), dunning_paused=False),
    done_when=InvoiceState(frozenset({"payment_due"}), dunning_paused=True),
    leads_to="payment_due",
    summary="Pause dunning until `expected_payment_date`.",
    effect_fields=("expected_payment_date",),
    effect_tolerance=24 * 60 * 60,
    checked_by_chargebee=AUTO_COLLECTION_NOTE,
)

RESUME_DUNNING = InvoiceAction(
    name="resume_dunning",
    endpoint="resume_dunning",
    api_version="v2",
    fields=(COMMENT,),
    acts_on=InvoiceState(frozenset({"payment_due"}), dunning_paused=True),
    done_when=InvoiceState(frozenset({"payment_due"}), dunning_paused=False),
    leads_to="payment_due",
    summary="Resume a paused dunning: it runs again.",
    effect_readable=False,
)


def _same_effect(current: Any, wanted: Any, tolerance: int) -> bool:
    if current == wanted:
        return True
    numbers = (int, float)
    return (
        tolerance > 0
        and isinstance(current, numbers)
        and isinstance(wanted, numbers)
        and not isinstance(current, bool)
        and abs(current - wanted) <= tolerance
    )


ACTIONS: Mapping[str, InvoiceAction] = {
    action.name: action
    for action in (CLOSE, COLLECT, WRITE_OFF, STOP_DUNNING, PAUSE_DUNNING, RESUME_DUNNING)
}
