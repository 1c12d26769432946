"""The Chargebee client core: no Airflow import, usable in scripts and tests on its own.

The names below are the public surface; the modules behind them may move::

    from airflow_provider_cb.client import ChargebeeClient, ClientSettings

    with ChargebeeClient(ClientSettings(api_key="...", site="acme")) as client:
        client.invoke("close", "inv_1", idempotency_key="close-inv_1")
"""

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
    IdempotencyConflictError,
    InvalidRequestError,
    InvalidStateError,
    NotFoundError,
    RateLimitError,
    RateLimitStoreError,
    RequestInProgressError,
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
    "IdempotencyConflictError",
    "InvalidRequestError",
    "InvalidStateError",
    "InvoiceAction",
    "NotFoundError",
    "RateLimitError",
    "RateLimitStoreError",
    "RequestInProgressError",
    "RequestOrigin",
    "ServerError",
]
