"""What invoices mean, with no Airflow import: the action table, outcomes and bulk runs.

The action table (:mod:`~airflow_provider_cb.invoicing.action_table`) says what each
action sends and which states it needs; outcomes are read from answers and evidence;
bulk runs, canaries, selection plans, waits and audit reports build on those. It
talks to Chargebee through :mod:`airflow_provider_cb.chargebee_api` only.
"""
