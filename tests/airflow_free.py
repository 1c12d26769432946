"""The test modules that never load Airflow, so the oldest-Airflow pass can leave them out.

They test the client, the emulator and the rate budget; a second Airflow version
cannot change their result. ``tests/unit/test_airflow_free.py`` proves the list: each
module imports without Airflow and names none of the Airflow-facing packages.
"""

from __future__ import annotations

from fnmatch import fnmatch

AIRFLOW_FREE = (
    "tests/unit/chargebee_api/test_*.py",
    "tests/unit/invoicing/test_*.py",
    "tests/unit/testing/test_emulator_*.py",
    "tests/integration/test_emulator_*.py",
    "tests/integration/test_rate_budget.py",
)
NOT_AIRFLOW_FREE = ("tests/integration/test_emulator_kit.py",)
"""Matched above, but one of its tests builds the hook."""


def is_airflow_free(path: str) -> bool:
    """Whether the test module at ``path`` (relative to the repository) is in the list."""
    return any(fnmatch(path, pattern) for pattern in AIRFLOW_FREE) and path not in NOT_AIRFLOW_FREE
