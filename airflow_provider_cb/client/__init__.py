"""The client's public names, kept where users' code imports them from.

The modules moved: the Chargebee HTTP client is :mod:`airflow_provider_cb.chargebee_api`,
the invoice domain :mod:`airflow_provider_cb.invoicing`. The names below load from
there on first use; nothing inside the provider imports this package::

    from airflow_provider_cb.client import ChargebeeClient, ClientSettings

    with ChargebeeClient(ClientSettings(api_key="...", site="acme")) as client:
        client.invoke("close", "inv_1", idempotency_key="close-inv_1")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_cb.chargebee_api.answers import ApiResponse
    from airflow_provider_cb.chargebee_api.encoding import RequestOrigin
    from airflow_provider_cb.chargebee_api.errors import (
        AuthenticationError,
        AuthorizationError,
        ChargebeeAPIError,
        ChargebeeError,
        ChargebeeTransportError,
        ChargebeeValidationError,
        ConnectionFailedError,
        IdempotencyConflictError,
        InvalidRequestError,
        InvalidStateError,
        NotFoundError,
        RateLimitError,
        RateLimitStoreError,
        ServerError,
    )
    from airflow_provider_cb.chargebee_api.settings import ApiVersion, ClientSettings
    from airflow_provider_cb.invoicing.action_table import ACTIONS, BodyField, InvoiceAction
    from airflow_provider_cb.invoicing.clients import AsyncChargebeeClient, ChargebeeClient

__all__ = [
    "ACTIONS",
    "ApiResponse",
    "ApiVersion",
    "AsyncChargebeeClient",
    "AuthenticationError",
    "AuthorizationError",
    "BodyField",
    "ChargebeeAPIError",
    "ChargebeeClient",
    "ChargebeeError",
    "ChargebeeTransportError",
    "ChargebeeValidationError",
    "ClientSettings",
    "ConnectionFailedError",
    "IdempotencyConflictError",
    "InvalidRequestError",
    "InvalidStateError",
    "InvoiceAction",
    "NotFoundError",
    "RateLimitError",
    "RateLimitStoreError",
    "RequestOrigin",
    "ServerError",
]


_HOMES = {
    "ACTIONS": "airflow_provider_cb.invoicing.action_table",
    "ApiResponse": "airflow_provider_cb.chargebee_api.answers",
    "ApiVersion": "airflow_provider_cb.chargebee_api.settings",
    "AsyncChargebeeClient": "airflow_provider_cb.invoicing.clients",
    "AuthenticationError": "airflow_provider_cb.chargebee_api.errors",
    "AuthorizationError": "airflow_provider_cb.chargebee_api.errors",
    "BodyField": "airflow_provider_cb.invoicing.action_table",
    "ChargebeeAPIError": "airflow_provider_cb.chargebee_api.errors",
    "ChargebeeClient": "airflow_provider_cb.invoicing.clients",
    "ChargebeeError": "airflow_provider_cb.chargebee_api.errors",
    "ChargebeeTransportError": "airflow_provider_cb.chargebee_api.errors",
    "ChargebeeValidationError": "airflow_provider_cb.chargebee_api.errors",
    "ClientSettings": "airflow_provider_cb.chargebee_api.settings",
    "ConnectionFailedError": "airflow_provider_cb.chargebee_api.errors",
    "IdempotencyConflictError": "airflow_provider_cb.chargebee_api.errors",
    "InvalidRequestError": "airflow_provider_cb.chargebee_api.errors",
    "InvalidStateError": "airflow_provider_cb.chargebee_api.errors",
    "InvoiceAction": "airflow_provider_cb.invoicing.action_table",
    "NotFoundError": "airflow_provider_cb.chargebee_api.errors",
    "RateLimitError": "airflow_provider_cb.chargebee_api.errors",
    "RateLimitStoreError": "airflow_provider_cb.chargebee_api.errors",
    "RequestOrigin": "airflow_provider_cb.chargebee_api.encoding",
    "ServerError": "airflow_provider_cb.chargebee_api.errors",
}
"""The module each exported name lives in."""


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_HOMES[name]), name)
