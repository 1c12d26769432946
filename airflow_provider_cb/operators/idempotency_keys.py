"""Deterministic idempotency keys.

A key names the attempt at an action, never the try: the same DAG, task, run,
map index, invoice and action always give the same key, so a retried or cleared
task within Chargebee's 30-minute window is replayed instead of acting twice.
"""

from __future__ import annotations

import hashlib

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError

DEFAULT_IDENTITY_TEMPLATE = "{{ dag.dag_id }}/{{ task.task_id }}/{{ run_id }}/{{ ti.map_index }}"


def derive_key(identity: str, action: str, invoice_id: str) -> str:
    """``af-<action>-<40 hex>``: at most 100 characters whatever the inputs' length."""
    if not isinstance(identity, str) or not identity.strip():
        raise ChargebeeValidationError(
            "idempotency_key", f"must render to a non-empty string, got {identity!r:.60}"
        )
    digest = hashlib.sha256("\x1f".join((identity, action, invoice_id)).encode("utf-8"))
    return f"af-{action[:40]}-{digest.hexdigest()[:40]}"
