"""The Chargebee HTTP client: no Airflow import, and nothing of what invoices mean.

Settings and the choice of server, form encoding and headers, one request built once
and the one retry decision, answers read into errors (the hierarchy is drawn at the
top of :mod:`~airflow_provider_cb.chargebee_api.errors`), the site's rate budget (in
process or shared through Redis) and redaction of the API key. The invoice domain
(:mod:`airflow_provider_cb.invoicing`) builds on it; it imports nothing from above.
"""
