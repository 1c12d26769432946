"""The Chargebee month-end page in the Airflow UI.

Registered through the ``airflow.plugins`` entry point (Airflow loads a plugin
named only in provider info when ``[core] lazy_discover_providers`` is False),
it mounts :mod:`~airflow_provider_cb.plugins.app` in the API server and adds a
"Chargebee month-end" item to the UI's Browse menu, shown inside the UI. Other
Airflow processes (scheduler, workers) load plugins too: they get the menu
entry only, never the web app and its imports.
"""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlparse

from airflow.plugins_manager import AirflowPlugin

URL_PREFIX = "/chargebee"
RUNNING_ON_API_SERVER = len(sys.argv) > 1 and sys.argv[1] == "api-server"


def base_path(path: str) -> str:
    """``path`` under the API server's ``[api] base_url`` (Airflow may be served below ``/``)."""
    from airflow.sdk.configuration import conf

    base = urlparse(str(conf.get("api", "base_url", fallback="/") or "/")).path
    return base.rstrip("/") + path


def _apps() -> list[dict[str, Any]]:
    from airflow_provider_cb.plugins.app import create_app

    return [{"app": create_app(), "url_prefix": URL_PREFIX, "name": "Chargebee month-end"}]


class ChargebeeMonthEndPlugin(AirflowPlugin):
    """The month-end page: periods, runs, outcomes, money, reports and waiting approvals."""

    name = "chargebee_month_end"
    fastapi_apps: list[Any] = _apps() if RUNNING_ON_API_SERVER else []
    external_views: list[Any] = [  # noqa: RUF012 - AirflowPlugin reads class attributes
        {
            "name": "Chargebee month-end",
            "href": base_path(f"{URL_PREFIX}/"),
            "url_route": "chargebee-month-end",
            "destination": "nav",
            "category": "browse",
        }
    ]
