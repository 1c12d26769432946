"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from typing import Any

from airflow_provider_cb import __version__


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-chargebee",
        "name": "Chargebee",
        "description": (
            "Chargebee invoice operations: close, collect, write off and dunning control."
        ),
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "chargebee",
                "hook-class-name": "airflow_provider_cb.hooks.chargebee.ChargebeeHook",
            }
        ],
    }
