"""The Chargebee client core: no Airflow import, usable in scripts and tests on its own.

The names below are the public surface; the modules behind them may move. They
load on first use: a DAG file importing one module of the core (the operators
do) does not pay for all of them::

    from airflow_provider_cb.client import ChargebeeClient, ClientSettings

    with ChargebeeClient(ClientSettings(api_key="...", site="acme")) as client:
        client.invoke("close", "inv_1", idempotency_key="close-inv_1")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from airflow_provider_cb.client.answers import ApiResponse
    from airflow_provider_cb.client.clients import AsyncChargebeeClient, ChargebeeClient
    from airflow_provider_cb.client.encoding import RequestOrigin
    from airflow_provider_cb.client.errors import (
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
    from airflow_provider_cb.client.invoices import ACTIONS, ApiVersion, BodyField, InvoiceAction
    from airflow_provider_cb.client.settings import ClientSettings

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
    "ApiResponse": "answers",
    "AsyncChargebeeClient": "clients",
    "ChargebeeClient": "clients",
    "RequestOrigin": "encoding",
    "ACTIONS": "invoices",
    "ApiVersion": "invoices",
    "BodyField": "invoices",
    "InvoiceAction": "invoices",
    "ClientSettings": "settings",
}
"""The module of each exported name that is not an error class (those live in ``errors``)."""


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = importlib.import_module(f"{__name__}.{_HOMES.get(name, 'errors')}")
    return getattr(module, name)
