"""Provider metadata read by Airflow through the ``apache_airflow_provider`` entry point.

Airflow 3.2+ builds the connection form from ``conn-fields`` and
``ui-field-behaviour`` here, without importing the hook: the form stays in step
with what :func:`~airflow_provider_cb.hooks.chargebee.settings_from_connection`
reads because a unit test checks every field name against it.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_cb import __version__


def _text(label: str, description: str, **schema: Any) -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "schema": {"type": ["string", "null"], **schema},
    }


def _number(label: str, description: str, kind: str, **schema: Any) -> dict[str, Any]:
    return {
        "label": label,
        "description": description,
        "schema": {"type": [kind, "null"], **schema},
    }


CONN_FIELDS: dict[str, dict[str, Any]] = {
    "test_site": {
        "label": "Test site",
        "description": "Use the test site ({site}-test.{domain}); it has its own API key.",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "environment": _text(
        "Domain",
        "Domain of the API host; change it only for another Chargebee region or a proxy.",
        default="chargebee.com",
    ),
    "protocol": _text(
        "Protocol",
        "https, or http for a trusted local proxy (needs 'Allow plain HTTP').",
        default="https",
        enum=["https", "http"],
    ),
    "allow_insecure_http": {
        "label": "Allow plain HTTP",
        "description": "Permit http to a non-loopback host; the key then travels in clear.",
        "schema": {"type": ["boolean", "null"], "default": False},
    },
    "base_url": _text(
        "Base URL override",
        "Replaces protocol, site, domain and port, e.g. http://127.0.0.1:8080 for the emulator; "
        "/api/v2 is appended, so leave it out. Port 1 to 65535; no user or password.",
        format="url",
    ),
    "origin_user": _text(
        "Default origin user",
        "Email sent as chargebee-request-origin-user on every request.",
        format="email",
    ),
    "origin_ip": _text("Default origin IP", "Sent as chargebee-request-origin-ip."),
    "origin_device": _text("Default origin device", "Sent as chargebee-request-origin-device."),
    "business_entity_id": _text(
        "Default business entity",
        "Sent as chargebee-business-entity-id (v2) on multi-entity sites.",
    ),
    "skip_events": _text(
        "Skip events",
        "Comma-separated: actions, webhook, email. Sent as chargebee-event-* headers on POSTs.",
    ),
    "requests_per_minute": _number(
        "Requests per minute",
        "The site's limit, paced evenly (150 when empty: what test sites allow); shared by "
        "all workers of a task, or by every task with a rate limit store; 1 to 100000.",
        "number",
        minimum=1,
        maximum=100000,
    ),
    "max_concurrent_requests": _number(
        "Max concurrent requests",
        "Requests in flight at once for the site, whatever max_workers says; 1 to 1000, "
        "default 50 (Chargebee allows about 50 on test sites, 100 on live ones).",
        "integer",
        minimum=1,
        maximum=1000,
    ),
    "rate_limit_store": _text(
        "Rate limit store",
        "A Redis URL (redis://[:password@]host:port/db, rediss:// for TLS): every task on "
        "every worker then shares one rate budget and concurrency limit for this site.",
        format="password",
    ),
    "timeout": _number(
        "Timeout (seconds)",
        "For a whole request: connect, send and receive; 0.1 to 600, default 30.",
        "number",
        minimum=0.1,
        maximum=600,
    ),
    "max_retries": _number(
        "Max retries",
        "For 429, 503 and safe-to-repeat failures; a whole number from 0 to 20, default 4.",
        "integer",
        minimum=0,
        maximum=20,
    ),
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "login"],
    "relabeling": {"host": "Site", "password": "API key"},
    "placeholders": {
        "host": "acme (the site name, without -test or .chargebee.com)",
        "password": "the site's API key (test sites have their own)",
        "port": "443",
    },
}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-chargebee",
        "name": "Chargebee",
        "description": (
            "Chargebee invoice operations: close, collect, write off and dunning control."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": "Chargebee",
                "external-doc-url": "https://apidocs.chargebee.com/docs/api/invoices",
                "tags": ["service"],
            }
        ],
        "connection-types": [
            {
                "connection-type": "chargebee",
                "hook-class-name": "airflow_provider_cb.hooks.chargebee.ChargebeeHook",
                "hook-name": "Chargebee",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "hooks": [
            {
                "integration-name": "Chargebee",
                "python-modules": ["airflow_provider_cb.hooks.chargebee"],
            }
        ],
        "operators": [
            {
                "integration-name": "Chargebee",
                "python-modules": [
                    "airflow_provider_cb.operators.invoices",
                    "airflow_provider_cb.operators.selection",
                ],
            }
        ],
        "sensors": [
            {
                "integration-name": "Chargebee",
                "python-modules": ["airflow_provider_cb.sensors.invoice_sensor"],
            }
        ],
        "triggers": [
            {
                "integration-name": "Chargebee",
                "python-modules": ["airflow_provider_cb.triggers.invoice"],
            }
        ],
        "extra-links": ["airflow_provider_cb.links.ChargebeeInvoiceLink"],
        # Loaded from here only with [core] lazy_discover_providers = False; the
        # airflow.plugins entry point in pyproject.toml loads it in every case.
        "plugins": [
            {
                "name": "chargebee_month_end",
                "plugin-class": "airflow_provider_cb.plugins.ChargebeeMonthEndPlugin",
            }
        ],
    }
