"""Operators for Chargebee invoice actions and invoice selection."""

from airflow_provider_cb.operators.invoices import (
    CloseInvoiceOperator,
    CollectInvoiceOperator,
    PauseDunningOperator,
    ResumeDunningOperator,
    StopDunningOperator,
    WriteOffInvoiceOperator,
)
from airflow_provider_cb.operators.selection import ListInvoicesOperator

__all__ = [
    "CloseInvoiceOperator",
    "CollectInvoiceOperator",
    "ListInvoicesOperator",
    "PauseDunningOperator",
    "ResumeDunningOperator",
    "StopDunningOperator",
    "WriteOffInvoiceOperator",
]
