"""The "Chargebee invoice" extra link: from a single-invoice task to the invoice's page.

Airflow 3 computes extra links in the worker and keeps the URL in XCom for the UI,
normally when the task ends or defers. The URL is built from the task's rendered
``invoice_id`` alone, so it is right before the first request; single-invoice tasks
also publish it when they start (:func:`publish_invoice_link`), so the link works
while the task runs or waits. Bulk tasks carry no link at all, so they push no
empty link XCom.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink
from airflow.sdk.exceptions import AirflowException

from airflow_provider_cb.chargebee_api.errors import ChargebeeError

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator, Context
    from airflow.sdk.types import TaskInstanceKey

log = logging.getLogger(__name__)


def invoice_url_for(operator: Any) -> str:
    """The invoice page of a task's rendered ``invoice_id``, or "" when there is none to show."""
    from airflow_provider_cb.chargebee_api.validation import rendered_invoice_id
    from airflow_provider_cb.hooks.chargebee import ChargebeeHook

    invoice_id = getattr(operator, "invoice_id", None)
    if invoice_id is None or getattr(operator, "invoice_ids", None) is not None:
        return ""
    conn_id = getattr(operator, "chargebee_conn_id", ChargebeeHook.default_conn_name)
    try:
        return ChargebeeHook(conn_id).invoice_url(rendered_invoice_id("invoice_id", invoice_id))
    except (ChargebeeError, AirflowException) as problem:
        # The task itself reports a bad id or connection; the link just stays empty.
        log.info("no Chargebee invoice link: %s", problem)
        return ""


class ChargebeeInvoiceLink(BaseOperatorLink):
    """Link a single-invoice task to the invoice in Chargebee's web app (test or live site)."""

    name = "Chargebee invoice"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return invoice_url_for(operator)


def publish_invoice_link(operator: BaseOperator, context: Context) -> None:
    """Store the link as the task starts, so the UI shows it while the task runs or waits."""
    ti = context.get("ti")
    for link in operator.operator_extra_links:
        if ti is not None and isinstance(link, ChargebeeInvoiceLink):
            url = invoice_url_for(operator)
            if url:
                ti.xcom_push(key=link.xcom_key, value=url)
