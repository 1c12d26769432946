"""Test a Chargebee DAG offline: a local emulator of Chargebee's invoice API.

``from airflow_provider_cb.testing import ChargebeeEmulator``; the pytest fixtures
``chargebee_emulator`` and ``chargebee_conn_env`` come with the package's pytest
plugin. Importing this package imports nothing else: the pytest plugin lives in
it and is loaded by every test run of a project that installs the provider, so
the emulator (and httpx) load only when a name below is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_cb.testing.approvals import ApprovalDesk
    from airflow_provider_cb.testing.emulator import ChargebeeEmulator
    from airflow_provider_cb.testing.faults import FAULT_KINDS, Faults
    from airflow_provider_cb.testing.records import AppliedAction, RecordLog, RequestRecord

_HOMES = {
    "ApprovalDesk": "approvals",
    "ChargebeeEmulator": "emulator",
    "FAULT_KINDS": "faults",
    "Faults": "faults",
    "AppliedAction": "records",
    "RecordLog": "records",
    "RequestRecord": "records",
}

__all__ = [
    "FAULT_KINDS",
    "AppliedAction",
    "ApprovalDesk",
    "ChargebeeEmulator",
    "Faults",
    "RecordLog",
    "RequestRecord",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{home}"), name)
