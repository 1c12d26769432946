"""Each module that links tasks to invoices imports alone, in a fresh interpreter: no cycle."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import REPO

MODULES = (
    "airflow_provider_cb.links",
    "airflow_provider_cb.operators",
    "airflow_provider_cb.sensors",
)
"""``links`` and the packages of every module importing it (a package runs its ``__init__``
before any of its modules): a cycle among them breaks whichever is imported first."""


def test_each_module_imports_first_and_alone() -> None:
    runs = {
        module: subprocess.Popen(
            [sys.executable, "-c", f"import {module}"],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for module in MODULES
    }
    failures = {}
    for module, run in runs.items():
        output, _ = run.communicate(timeout=120)
        if run.returncode != 0:
            failures[module] = output.strip().splitlines()[-1]

    assert failures == {}
