"""The Chargebee client: invoice actions, reads and listing over one transport.

It has no Airflow import, so scripts and tests can use it on its own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from airflow_provider_cb.client.encoding import RequestOrigin
from airflow_provider_cb.client.errors import ChargebeeTransportError, ChargebeeValidationError
from airflow_provider_cb.client.invoices import ACTIONS, InvoiceAction
from airflow_provider_cb.client.listing import encode_filters
from airflow_provider_cb.client.ratebudget import RateBudget
from airflow_provider_cb.client.settings import ClientSettings
from airflow_provider_cb.client.transport import ApiResponse, Transport
from airflow_provider_cb.client.validation import check_id

LIST_PAGE_SIZE = 100


def resolve_action(action: InvoiceAction | str) -> InvoiceAction:
    if isinstance(action, InvoiceAction):
        return action
    try:
        return ACTIONS[action]
    except KeyError:
        raise ChargebeeValidationError(
            "action", f"{action!r} is not one of {', '.join(ACTIONS)}"
        ) from None


class ChargebeeClient:
    """Thread-safe; share one instance between workers so they share the rate budget."""

    def __init__(
        self,
        settings: ClientSettings,
        *,
        origin: RequestOrigin | None = None,
        budget: RateBudget | None = None,
        transport: Transport | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport or Transport(settings, origin=origin, budget=budget)

    def __repr__(self) -> str:
        return f"ChargebeeClient(host={self.settings.host!r})"

    def __enter__(self) -> ChargebeeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def invoke(
        self,
        action: InvoiceAction | str,
        invoice_id: str,
        *,
        fields: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
        origin: RequestOrigin | None = None,
    ) -> ApiResponse:
        """Validate and send one invoice action; every check runs before the request."""
        resolved = resolve_action(action)
        path = resolved.path(invoice_id)
        body = resolved.build_body(fields or {})
        return self.transport.request(
            "POST",
            path,
            api_version=resolved.api_version,
            body=body,
            idempotency_key=idempotency_key,
            origin=origin,
        )

    def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        path = f"/invoices/{quote(check_id('invoice_id', invoice_id), safe='')}"
        return _invoice_of(self.transport.request("GET", path), path)

    def list_invoices_page(
        self, *, limit: int = LIST_PAGE_SIZE, offset: str | None = None, **filters: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of invoices and the offset of the next page (None on the last)."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
            raise ChargebeeValidationError("limit", f"{limit!r} must be an integer from 1 to 100")
        query = encode_filters(filters)
        query["limit"] = str(limit)
        if offset is not None:
            query["offset"] = offset
        body = self.transport.request("GET", "/invoices", query=query).body
        items = body.get("list")
        if not isinstance(items, list):
            raise ChargebeeTransportError("GET", "/invoices", "answer has no 'list'")
        invoices = [item["invoice"] for item in items]
        next_offset = body.get("next_offset")
        return invoices, str(next_offset) if next_offset else None

    def iter_invoices(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """Every invoice matching the filters, page by page (100 at a time), lazily."""
        offset: str | None = None
        while True:
            invoices, offset = self.list_invoices_page(offset=offset, **filters)
            yield from invoices
            if offset is None:
                return


def _invoice_of(response: ApiResponse, path: str) -> dict[str, Any]:
    invoice = response.body.get("invoice")
    if not isinstance(invoice, dict):
        raise ChargebeeTransportError("GET", path, "answer has no 'invoice' object")
    return invoice
