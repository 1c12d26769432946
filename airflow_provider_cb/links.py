"""The "Chargebee invoice" extra link: from a task to the invoice's page on the site.

Airflow 3 calls :meth:`ChargebeeInvoiceLink.get_link` in the worker when the task
finishes and stores the URL in XCom for the UI. The invoice id comes from the
task's own record in XCom (its return value, or the record a failed action
keeps under ``chargebee_result``), so a link appears only once an invoice was
acted on or read; bulk tasks, whose result names many invoices, get none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperatorLink

if TYPE_CHECKING:
    from airflow.sdk import BaseOperator
    from airflow.sdk.types import TaskInstanceKey


def _invoice_id_of(record: Any) -> str | None:
    invoice_id = record.get("invoice_id") if isinstance(record, dict) else None
    return invoice_id if isinstance(invoice_id, str) else None


class ChargebeeInvoiceLink(BaseOperatorLink):
    """Link a single-invoice task to the invoice in Chargebee's web app (test or live site)."""

    name = "Chargebee invoice"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        from airflow.sdk.execution_time.xcom import XCom

        from airflow_provider_cb.hooks.chargebee import ChargebeeHook
        from airflow_provider_cb.operators.base import RESULT_XCOM_KEY

        if getattr(operator, "invoice_ids", None) is not None:
            return ""  # a bulk task: its summary, maybe large, names no single invoice
        for key in ("return_value", RESULT_XCOM_KEY):
            record = XCom.get_value(ti_key=ti_key, key=key)
            if record is None:
                continue  # a failed task keeps its record under the second key
            invoice_id = _invoice_id_of(record)
            if invoice_id is None:
                return ""  # a bulk summary (a mapped task's operator has no invoice_ids)
            conn_id = getattr(operator, "chargebee_conn_id", ChargebeeHook.default_conn_name)
            return ChargebeeHook(conn_id).invoice_url(invoice_id)
        return ""
