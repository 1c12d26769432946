"""The Chargebee clients: invoice actions, reads and listing over one transport.

:class:`ChargebeeClient` is synchronous and thread-safe; :class:`AsyncChargebeeClient`
reads from an event loop (the triggerer). Both build their requests and read
their answers with the same functions here. No Airflow import, so scripts and
tests can use them on their own.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from airflow_provider_cb.client.answers import ApiResponse
from airflow_provider_cb.client.async_transport import AsyncTransport
from airflow_provider_cb.client.encoding import RequestOrigin
from airflow_provider_cb.client.errors import ChargebeeTransportError, ChargebeeValidationError
from airflow_provider_cb.client.invoices import ACTIONS, InvoiceAction
from airflow_provider_cb.client.listing import PAGE_SIZE, ListingGuard, encode_filters
from airflow_provider_cb.client.ratebudget import RateBudget
from airflow_provider_cb.client.settings import ClientSettings
from airflow_provider_cb.client.transport import Transport
from airflow_provider_cb.client.validation import check_id

LIST_PAGE_SIZE = PAGE_SIZE


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
        path = invoice_path(invoice_id)
        return invoice_of(self.transport.request("GET", path).body, path)

    def list_invoices_page(
        self, *, limit: int = LIST_PAGE_SIZE, offset: str | None = None, **filters: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of invoices and the offset of the next page (None on the last)."""
        query = list_query(limit, offset, filters)
        return page_of(self.transport.request("GET", "/invoices", query=query).body)

    def iter_invoices(
        self, *, max_pages: int | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Every invoice matching the filters, page by page (100 at a time), lazily.

        :class:`~airflow_provider_cb.client.listing.ListingGuard` ends a listing that
        would loop or run past ``max_pages`` pages with an error.
        """
        guard = ListingGuard(page_size=LIST_PAGE_SIZE, max_pages=max_pages)
        offset: str | None = None
        while True:
            invoices, offset = self.list_invoices_page(offset=offset, **filters)
            yield from invoices
            if offset is None:
                return
            guard.follow(invoices, offset)


class AsyncChargebeeClient:
    """The reads a trigger needs, from an event loop; one instance per loop."""

    def __init__(self, settings: ClientSettings, *, origin: RequestOrigin | None = None) -> None:
        self.settings = settings
        self.transport = AsyncTransport(settings, origin=origin)

    def __repr__(self) -> str:
        return f"AsyncChargebeeClient(host={self.settings.host!r})"

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        path = invoice_path(invoice_id)
        response = await self.transport.send(self.transport.prepare("GET", path))
        return invoice_of(response.body, path)

    async def list_invoices_page(
        self, *, limit: int = LIST_PAGE_SIZE, offset: str | None = None, **filters: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of invoices and the offset of the next page (None on the last)."""
        prepared = self.transport.prepare(
            "GET", "/invoices", query=list_query(limit, offset, filters)
        )
        return page_of((await self.transport.send(prepared)).body)


def invoice_path(invoice_id: str) -> str:
    return f"/invoices/{quote(check_id('invoice_id', invoice_id), safe='')}"


def list_query(limit: int, offset: str | None, filters: Mapping[str, Any]) -> dict[str, str]:
    """The query of one list page; every value checked before any request."""
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 100:
        raise ChargebeeValidationError("limit", f"{limit!r} must be an integer from 1 to 100")
    query = encode_filters(filters)
    query["limit"] = str(limit)
    if offset is not None:
        query["offset"] = offset
    return query


def invoice_of(body: Mapping[str, Any], path: str) -> dict[str, Any]:
    """The ``invoice`` object of an answer, or an error naming what the answer lacks."""
    invoice = body.get("invoice")
    if not isinstance(invoice, dict):
        raise ChargebeeTransportError("GET", path, "answer has no 'invoice' object")
    return invoice


def page_of(body: Mapping[str, Any]) -> tuple[list[dict[str, Any]], str | None]:
    """The invoices of one list page and the next page's offset (None on the last)."""
    items = body.get("list")
    if not isinstance(items, list):
        raise ChargebeeTransportError("GET", "/invoices", "answer has no 'list'")
    invoices = [invoice_of(item if isinstance(item, dict) else {}, "/invoices") for item in items]
    next_offset = body.get("next_offset")
    return invoices, str(next_offset) if next_offset else None
