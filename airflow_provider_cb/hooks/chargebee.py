"""ChargebeeHook: turns an Airflow connection into a configured Chargebee client."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseHook
from airflow.sdk.log import mask_secret

from airflow_provider_cb.chargebee_api.answers import ApiResponse
from airflow_provider_cb.chargebee_api.encoding import RequestOrigin
from airflow_provider_cb.chargebee_api.errors import (
    AuthenticationError,
    AuthorizationError,
    ChargebeeError,
    ChargebeeTransportError,
    ChargebeeValidationError,
    NotFoundError,
)
from airflow_provider_cb.chargebee_api.redaction import masker_forms
from airflow_provider_cb.chargebee_api.settings import (
    DEFAULT_ENVIRONMENT,
    ApiVersion,
    ClientSettings,
)
from airflow_provider_cb.chargebee_api.storeurl import store_secrets
from airflow_provider_cb.chargebee_api.validation import check_bool, check_id
from airflow_provider_cb.invoicing.action_table import InvoiceAction
from airflow_provider_cb.invoicing.clients import (
    LIST_PAGE_SIZE,
    AsyncChargebeeClient,
    ChargebeeClient,
)

_ORIGIN_FIELDS = ("origin_user", "origin_ip", "origin_device", "business_entity_id")


def _extra(extras: Mapping[str, Any], name: str) -> Any:
    """Read an extra saved by the Airflow 3 form (bare name) or older UIs (prefixed)."""
    value = extras.get(name)
    if value in (None, ""):
        value = extras.get(f"extra__chargebee__{name}")
    return None if value == "" else value


def _number(name: str, value: Any, kind: type[int] | type[float]) -> Any:
    """A number from the form (text) or JSON extras; booleans and fractions of whole counts fail."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ChargebeeValidationError(name, f"{value!r} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ChargebeeValidationError(name, f"{value!r:.80} is not a number") from None
    if kind is int:
        if not number.is_integer():
            raise ChargebeeValidationError(name, f"{value!r:.80} is not a whole number")
        return int(number)
    return number


def mask_api_key(api_key: str) -> None:
    """Have Airflow mask a secret in task logs and XCom in every form a server may echo it."""
    for form in masker_forms(api_key):
        mask_secret(form)


def mask_secrets(settings: ClientSettings) -> None:
    """Register every secret the settings hold: the API key and the store's password."""
    for secret in (settings.api_key, *store_secrets(settings.rate_limit_store or "")):
        mask_api_key(secret)


def settings_from_connection(
    host: str | None, password: str | None, port: int | None, extras: Mapping[str, Any]
) -> ClientSettings:
    """Build client settings from the parts of an Airflow connection."""
    extra_port = _extra(extras, "port")
    values: dict[str, Any] = {
        "api_key": password or "",
        "site": host or None,
        "test_site": check_bool("test_site", _extra(extras, "test_site") or False),
        "environment": _extra(extras, "environment") or DEFAULT_ENVIRONMENT,
        "protocol": _extra(extras, "protocol") or "https",
        "port": _number("port", port if extra_port is None else extra_port, int),
        "base_url": _extra(extras, "base_url"),
        "allow_insecure_http": check_bool(
            "allow_insecure_http", _extra(extras, "allow_insecure_http") or False
        ),
    }
    store = _extra(extras, "rate_limit_store")
    if store is not None:
        values["rate_limit_store"] = store
    # For tests against the emulator: no client-side pace, whatever a task asks for.
    values["lift_rate_budget"] = check_bool(
        "lift_rate_budget", _extra(extras, "lift_rate_budget") or False
    )
    for name, kind in (
        ("timeout", float),
        ("max_retries", int),
        ("requests_per_minute", float),
        ("max_concurrent_requests", int),
        ("rate_limit_block_seconds", float),
    ):
        number = _number(name, _extra(extras, name), kind)
        if number is not None:
            values[name] = number
    return ClientSettings(**values)


class ChargebeeHook(BaseHook):
    """Interact with Chargebee's invoice API through one pooled, rate-limited client.

    The connection's password is the API key and its host the site name (``acme``);
    see ``docs/connection.md`` for the extras. Origin headers and ``skip_events``
    given here override the connection's defaults.
    """

    conn_name_attr = "chargebee_conn_id"
    default_conn_name = "chargebee_default"
    conn_type = "chargebee"
    hook_name = "Chargebee"

    def __init__(
        self,
        chargebee_conn_id: str = default_conn_name,
        *,
        origin_user: str | None = None,
        origin_ip: str | None = None,
        origin_device: str | None = None,
        business_entity_id: str | None = None,
        skip_events: Any = None,
        requests_per_minute: float | None = None,
    ) -> None:
        super().__init__()
        self.chargebee_conn_id = chargebee_conn_id
        self._origin_override = RequestOrigin(
            origin_user=origin_user,
            origin_ip=origin_ip,
            origin_device=origin_device,
            business_entity_id=business_entity_id,
            skip_events=skip_events,
        )
        self._requests_per_minute = requests_per_minute
        self._client: ChargebeeClient | None = None
        self._client_lock = threading.Lock()
        self._async_client: AsyncChargebeeClient | None = None

    def __repr__(self) -> str:
        return f"ChargebeeHook(chargebee_conn_id={self.chargebee_conn_id!r})"

    def connection_settings(self) -> tuple[ClientSettings, RequestOrigin]:
        """The connection's settings and default headers, merged with this hook's overrides."""
        conn = self.get_connection(self.chargebee_conn_id)
        extras = conn.extra_dejson
        settings = settings_from_connection(conn.host, conn.password, conn.port, extras)
        mask_secrets(settings)
        if self._requests_per_minute is not None:
            settings = dataclasses.replace(settings, requests_per_minute=self._requests_per_minute)
        origin = RequestOrigin(
            **{name: _extra(extras, name) for name in _ORIGIN_FIELDS},
            skip_events=_extra(extras, "skip_events"),
        ).merged(self._origin_override)
        return settings, origin

    def get_conn(self) -> ChargebeeClient:
        """The hook's client, built once and shared by every thread using this hook."""
        with self._client_lock:
            if self._client is None:
                settings, origin = self.connection_settings()
                self._client = ChargebeeClient(
                    settings, origin=origin, connection_id=self.chargebee_conn_id
                )
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def aget_conn(self) -> AsyncChargebeeClient:
        """The hook's client for the running event loop, built on first use.

        The SDK's connection lookup is synchronous; a thread keeps the loop free.
        """
        if self._async_client is None:
            settings, origin = await asyncio.to_thread(self.connection_settings)
            self._async_client = AsyncChargebeeClient(
                settings, origin=origin, connection_id=self.chargebee_conn_id
            )
        return self._async_client

    async def aclose(self) -> None:
        if self._async_client is not None:
            await self._async_client.aclose()
            self._async_client = None

    def server_url(self, api_version: ApiVersion = "v2") -> str:
        return self.get_conn().settings.server_url(api_version)

    def invoice_url(self, invoice_id: str) -> str:
        """The invoice's page in Chargebee's web app, on the connection's test or live site.

        The page lives on the site even when API calls go through ``base_url``; a
        connection without a site name has no page to link to and gets "".
        """
        conn = self.get_connection(self.chargebee_conn_id)
        settings = settings_from_connection(conn.host, conn.password, conn.port, conn.extra_dejson)
        if not settings.site:
            return ""
        # Without base_url the settings check the site and domain that make up the host.
        site = dataclasses.replace(settings, base_url=None, protocol="https", port=None)
        safe_id = quote(check_id("invoice_id", invoice_id), safe="")
        return f"https://{site.host}/d/invoices/{safe_id}"

    # Actions. Each returns Chargebee's decoded answer; the operators use invoke().

    def invoke(
        self,
        action: InvoiceAction | str,
        invoice_id: str,
        *,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> ApiResponse:
        """Send one invoice action and return the answer with its retry details."""
        return self.get_conn().invoke(
            action, invoice_id, fields=fields, idempotency_key=idempotency_key
        )

    def close_invoice(
        self,
        invoice_id: str,
        *,
        comment: str | None = None,
        invoice_date: Any = None,
        remove_general_note: bool | None = None,
        notes_to_remove: list[dict[str, str]] | None = None,
        invoice_note: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return self.invoke(
            "close",
            invoice_id,
            idempotency_key=idempotency_key,
            comment=comment,
            invoice_date=invoice_date,
            remove_general_note=remove_general_note,
            notes_to_remove=notes_to_remove,
            invoice_note=invoice_note,
        ).body

    def collect_invoice(
        self, invoice_id: str, *, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return self.invoke("collect", invoice_id, idempotency_key=idempotency_key).body

    def write_off_invoice(
        self, invoice_id: str, *, comment: str | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return self.invoke(
            "write_off", invoice_id, idempotency_key=idempotency_key, comment=comment
        ).body

    def stop_dunning(
        self, invoice_id: str, *, comment: str | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return self.invoke(
            "stop_dunning", invoice_id, idempotency_key=idempotency_key, comment=comment
        ).body

    def pause_dunning(
        self,
        invoice_id: str,
        *,
        expected_payment_date: Any,
        comment: str | None = None,
        idempotency_key: str | None = None,
    ) -> dict[str, Any]:
        return self.invoke(
            "pause_dunning",
            invoice_id,
            idempotency_key=idempotency_key,
            expected_payment_date=expected_payment_date,
            comment=comment,
        ).body

    def resume_dunning(
        self, invoice_id: str, *, comment: str | None = None, idempotency_key: str | None = None
    ) -> dict[str, Any]:
        return self.invoke(
            "resume_dunning", invoice_id, idempotency_key=idempotency_key, comment=comment
        ).body

    # Reads.

    def get_invoice(self, invoice_id: str) -> dict[str, Any]:
        return self.get_conn().get_invoice(invoice_id)

    async def aget_invoice(self, invoice_id: str) -> dict[str, Any]:
        return await (await self.aget_conn()).get_invoice(invoice_id)

    async def alist_invoices_page(
        self, *, limit: int = LIST_PAGE_SIZE, offset: str | None = None, **filters: Any
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of invoices matching the filters and the next page's offset (None: last)."""
        client = await self.aget_conn()
        return await client.list_invoices_page(limit=limit, offset=offset, **filters)

    def iter_invoices(
        self, *, max_pages: int | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Invoices matching Chargebee's filters, following ``next_offset`` 100 at a time."""
        return self.get_conn().iter_invoices(max_pages=max_pages, **filters)

    def test_connection(self) -> tuple[bool, str]:
        """One cheap read (a single-invoice list page) that proves key and site work."""
        try:
            client = self.get_conn()
            client.list_invoices_page(limit=1)
        except AuthenticationError:
            return False, "Chargebee rejected the API key (401): check the key and test_site."
        except AuthorizationError as exc:
            return False, f"The API key may not list invoices, or the request was blocked: {exc}"
        except NotFoundError:
            return False, "Chargebee does not know this site (404): check the site name."
        except ChargebeeTransportError as exc:
            return False, f"Could not reach Chargebee: {exc}"
        except ChargebeeError as exc:
            return False, str(exc)
        finally:
            self.close()
        settings = client.settings
        kind = "test" if settings.test_site else "live"
        if settings.base_url is None:
            return True, f"Connected to {settings.host} ({kind} site)."
        site = f"site {settings.site!r}" if settings.site else "no site name"
        return True, f"Connected through {settings.base_url} ({site}, {kind} site)."
