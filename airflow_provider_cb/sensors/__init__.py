"""Sensors that wait on Chargebee invoices."""

from airflow_provider_cb.sensors.invoice_sensor import ChargebeeInvoiceSensor

__all__ = ["ChargebeeInvoiceSensor"]
