"""Test a Chargebee DAG offline: a local emulator of Chargebee's invoice API.

``from airflow_provider_cb.testing import ChargebeeEmulator``; the pytest fixtures
``chargebee_emulator`` and ``chargebee_conn_env`` come with the package's pytest
plugin. Importing this package does not import Airflow.
"""

from airflow_provider_cb.testing.emulator import ChargebeeEmulator
from airflow_provider_cb.testing.faults import FAULT_KINDS, Faults
from airflow_provider_cb.testing.records import AppliedAction, RecordLog, RequestRecord

__all__ = [
    "FAULT_KINDS",
    "AppliedAction",
    "ChargebeeEmulator",
    "Faults",
    "RecordLog",
    "RequestRecord",
]
