"""The Chargebee clients: invoice actions, reads and listing over one transport.

:class:`ChargebeeClient` is synchronous and thread-safe; :class:`AsyncChargebeeClient`
reads from an event loop (the triggerer). Both build their requests and read
their answers with the same functions here. No Airflow import, so scripts and
tests can use them on their own.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

from airflow_provider_cb.chargebee_api.answers import ApiResponse, is_site_wide
from airflow_provider_cb.chargebee_api.async_transport import AsyncTransport
from airflow_provider_cb.chargebee_api.encoding import RequestOrigin
from airflow_provider_cb.chargebee_api.errors import (
    ChargebeeError,
    ChargebeeTransportError,
    ChargebeeValidationError,
)
from airflow_provider_cb.chargebee_api.ratebudget import RateBudget
from airflow_provider_cb.chargebee_api.settings import ClientSettings
from airflow_provider_cb.chargebee_api.transport import Transport
from airflow_provider_cb.chargebee_api.validation import check_id
from airflow_provider_cb.invoicing.action_table import ACTIONS, InvoiceAction
from airflow_provider_cb.invoicing.list_filters import PAGE_SIZE, ListingGuard, encode_filters

LIST_PAGE_SIZE = PAGE_SIZE
IN_FLIGHT_WAIT_SECONDS = 300.0
"""How long an unexplained state conflict is sent again with its key when this call sent
the key before (a timeout or lost answer): our own first request may still be running."""
FIRST_SEND_IN_FLIGHT_WAIT_SECONDS = 15.0
"""The same when the conflict answered the key's first send here: only an earlier try of
the task could still be running it, which is rare, so the wait is short."""


def site_label(settings: ClientSettings, connection_id: str | None) -> str:
    """``connection 'chargebee_default', host acme-test.chargebee.com``: where requests go."""
    where = urlsplit(settings.server_url())
    host = where.hostname or settings.host
    if where.port is not None:
        host += f":{where.port}"
    named = f"connection {connection_id!r}, " if connection_id else ""
    return f"{named}host {host}"


@contextlib.contextmanager
def naming_site(label: str) -> Iterator[None]:
    """Errors that concern the whole site, or the connection to it, say which site."""
    try:
        yield
    except ChargebeeError as error:
        if isinstance(error, ChargebeeTransportError) or is_site_wide(error):
            error.at(label)
        raise


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
        connection_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.transport = transport or Transport(settings, origin=origin, budget=budget)
        self.site = site_label(settings, connection_id)
        """Where requests go, as errors name it: the Airflow connection and the host."""
        self.in_flight_wait = IN_FLIGHT_WAIT_SECONDS
        self.deadline: float | None = None
        """``time.monotonic()`` by which the caller must be done (a task's execution_timeout)."""

    def __repr__(self) -> str:
        return f"ChargebeeClient(host={self.settings.host!r})"

    def __enter__(self) -> ChargebeeClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        self.transport.close()

    def end_waits_by(self, seconds: float) -> None:
        """Cap every wait for an in-flight duplicate at ``seconds`` from now (a task's timeout)."""
        self.deadline = time.monotonic() + seconds

    @property
    def retries(self) -> int:
        """Retries this client has sent so far, every request counted, for progress lines."""
        return self.transport.retries

    def pace(self) -> tuple[float | None, str]:
        """Requests a minute (None when the budget is lifted) and who shares that pace."""
        budget = self.transport.budget
        return budget.requests_per_minute, budget.scope()

    def in_flight_until(self, *, sent_before: bool) -> float:
        """``time.monotonic()`` until which an unexplained conflict is sent again with its key.

        Longer when this call sent the key before (its answer lost or timed out), never
        past :attr:`deadline`.
        """
        wait = self.in_flight_wait if sent_before else FIRST_SEND_IN_FLIGHT_WAIT_SECONDS
        until = time.monotonic() + min(wait, self.in_flight_wait)
        return until if self.deadline is None else min(until, self.deadline)

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
        with naming_site(self.site):
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
        with naming_site(self.site):
            return invoice_of(self.transport.request("GET", path).body, path)

    def list_invoices_page(
        self, *, limit: int = LIST_PAGE_SIZE, offset: str | None = None, **filters: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of invoices and the offset of the next page (None on the last)."""
        query = list_query(limit, offset, filters)
        with naming_site(self.site):
            return page_of(self.transport.request("GET", "/invoices", query=query).body)

    def iter_invoices(
        self, *, max_pages: int | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Every invoice matching the filters, page by page (100 at a time), lazily.

        :class:`~airflow_provider_cb.invoicing.list_filters.ListingGuard` ends a listing that
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

    def __init__(
        self,
        settings: ClientSettings,
        *,
        origin: RequestOrigin | None = None,
        connection_id: str | None = None,
    ) -> None:
        self.settings = settings
        self.transport = AsyncTransport(settings, origin=origin)
        self.site = site_label(settings, connection_id)

    def __repr__(self) -> str:
        return f"AsyncChargebeeClient(host={self.settings.host!r})"

    async def aclose(self) -> None:
        await self.transport.aclose()

    async def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        path = invoice_path(invoice_id)
        with naming_site(self.site):
            response = await self.transport.send(self.transport.prepare("GET", path))
            return invoice_of(response.body, path)

    async def list_invoices_page(
        self, *, limit: int = LIST_PAGE_SIZE, offset: str | None = None, **filters: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of invoices and the offset of the next page (None on the last)."""
        prepared = self.transport.prepare(
            "GET", "/invoices", query=list_query(limit, offset, filters)
        )
        with naming_site(self.site):
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
