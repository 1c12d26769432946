"""The month ledger: every action on an invoice, kept per period, run and try.

Each task's records go to one JSON-lines file named after its run, try, task and
map index, written once and never rewritten, with a small summary beside it that
the month-end page indexes. Nothing here imports Airflow: the operators decide
where the ledger lives (``[chargebee] ledger_path``) and pass its root in as any
object with ``pathlib``'s reading and writing methods (``ObjectStoragePath``).
"""
