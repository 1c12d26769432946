"""What an approver reads before money moves: the preview's summary and the invoices it covers.

A person asked to approve a write-off should see each invoice and its amount,
not only totals and the five largest; a month with thousands would make the
page unreadable, so the list stops at :data:`APPROVAL_LISTED` and says how many
more there are and where to find them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from airflow_provider_cb.invoicing.audit_report import result_markdown
from airflow_provider_cb.invoicing.money import format_money, summed_amount, total_name

APPROVAL_LISTED = 100
"""Invoices an approval body names one by one (a bulk summary keeps up to 200 records)."""


def approval_markdown(
    preview: Mapping[str, Any], *, title: str | None = None, limit: int = APPROVAL_LISTED
) -> str:
    """A dry run's summary for an approval's body, then each invoice it would act on.

    Invoices are grouped by currency, largest first, each with the amount the
    summary's totals sum (for a write-off, the amount it would write off).
    """
    action = str(preview.get("action", "chargebee"))
    would_act = [
        record
        for record in preview.get("records", [])
        if record.get("outcome") == "would_act" and record.get("currency_code")
    ]
    amounts = {id(record): _amount(action, record) for record in would_act}
    would_act.sort(key=lambda r: (r["currency_code"], -amounts[id(r)], str(r.get("invoice_id"))))
    listed = would_act[:limit]
    lines = [result_markdown(preview, title=title), "", f"Invoices ({total_name(action)}):", ""]
    lines += [
        # Ids are checked against a conservative pattern before any request: nothing in one
        # can start Markdown (an underscore inside a word is no emphasis).
        f"- {r['invoice_id']}: {format_money(amounts[id(r)], r['currency_code'])}"
        for r in listed
    ]
    more = int(preview.get("counts", {}).get("would_act", 0)) - len(listed)
    if more > 0:
        lines.append(f"- and {more} more, listed in the preview task's log")
    return "\n".join(lines)


def _amount(action: str, record: Mapping[str, Any]) -> int:
    summed = summed_amount(
        action,
        total=record.get("total"),
        amount_due=record.get("amount_due"),
        write_off_amount=record.get("write_off_amount"),
    )
    return summed or 0
