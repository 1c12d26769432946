"""The Chargebee API emulator: a local HTTP server speaking Chargebee's invoice API.

Users point their DAGs at :attr:`ChargebeeEmulator.base_url` (or the Airflow
connection from :meth:`ChargebeeEmulator.connection_json`) and test them offline,
including retries, rate limits and idempotent re-runs. The server binds to a
loopback address only: it accepts any client that knows the test key.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import threading
import time
import traceback
from collections import Counter
from typing import TYPE_CHECKING, Any, Self, Unpack

from airflow_provider_cb.testing import faults as fault_kinds
from airflow_provider_cb.testing.api import Request, Site
from airflow_provider_cb.testing.clock import Clock
from airflow_provider_cb.testing.control_api import CONTROL_PREFIX, ControlApi
from airflow_provider_cb.testing.faults import Faults
from airflow_provider_cb.testing.fields import InvoiceFields, complete
from airflow_provider_cb.testing.idempotency import DEFAULT_IN_FLIGHT_MESSAGE, in_flight_worded
from airflow_provider_cb.testing.ratelimit import InFlightGauge, RateLimitWindow, make_limiter
from airflow_provider_cb.testing.records import AppliedAction, RecordLog, RequestRecord
from airflow_provider_cb.testing.server import HttpServer, bind, check_loopback
from airflow_provider_cb.testing.service import Service
from airflow_provider_cb.testing.store import InvoiceStore
from airflow_provider_cb.testing.wire import DEFAULT_DIALECT, Answer, ApiError, Dialect, Disconnect

if TYPE_CHECKING:
    import httpx

UNPACED_REQUESTS_PER_MINUTE = 100_000
"""The highest ``requests_per_minute`` a connection accepts: a pace the emulator never feels."""
EMULATED_BLOCK_SECONDS = 1
"""How long the kit's connections wait out a 429 that names no ``Retry-After``."""


class ChargebeeEmulator(Service):
    """A Chargebee site on localhost with invoices, idempotency, rate limits and faults.

    Use it as a context manager (or call :meth:`start` and :meth:`stop`)::

        with ChargebeeEmulator() as emulator:
            emulator.seed(5)
            ...  # point the client at emulator.base_url
    """

    def __init__(
        self,
        api_key: str = "test_key",
        *,
        site: str = "acme",
        requests_per_minute: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        dialect: Dialect = DEFAULT_DIALECT,
        rate_limit_window: RateLimitWindow = "fixed",
        in_flight_message: str = DEFAULT_IN_FLIGHT_MESSAGE,
    ) -> None:
        check_loopback(host)
        self.dialect = dialect
        """How errors are worded: conflict status 400 or 409, legacy bodies, Retry-After dates."""
        self.in_flight_message = in_flight_message
        """The message of the state conflict a same-key repeat gets while the first request
        runs (see :attr:`processing_seconds`); Chargebee documents none, so any may come."""
        self.api_key = api_key
        self.site = site
        self.host = host
        self.port = port
        self.clock = Clock()
        self.applied_actions: RecordLog[AppliedAction] = RecordLog()
        self.requests: RecordLog[RequestRecord] = RecordLog()
        self.faults = Faults()
        self._store = InvoiceStore(self.clock, self.applied_actions)
        self._window: RateLimitWindow = rate_limit_window
        self._limiter = make_limiter(rate_limit_window, self.clock, requests_per_minute)
        self._in_flight = InFlightGauge()
        self._site = Site(api_key, self.clock, self._store)
        self._control = ControlApi(self, self._site, self._store)
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> Self:
        """Bind and serve in a background thread; returns self for chaining."""
        if self._server is not None:
            raise RuntimeError("the emulator is already running")
        server = bind(self.host, self.port, self.respond)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="chargebee-emulator",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close every open connection; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    @property
    def base_url(self) -> str:
        """Where the server listens, e.g. ``http://127.0.0.1:54321``; the client adds /api/v2."""
        if self._server is None:
            raise RuntimeError("the emulator is not running; call start() first")
        host, port = self._server.server_address[:2]
        if isinstance(host, bytes):
            host = host.decode()
        shown = f"[{host}]" if ":" in host else host
        return f"http://{shown}:{port}"

    def connection_json(
        self, conn_type: str = "chargebee", *, lift_rate_budget: bool = False
    ) -> str:
        """An Airflow connection (e.g. for ``AIRFLOW_CONN_CHARGEBEE_DEFAULT``) to this server.

        It always names a pace, so a test never runs at the client's default of 150
        requests a minute: ``requests_per_minute`` is the emulator's limit, or, when it
        has none, the highest a connection accepts (a task naming its own still wins).
        ``lift_rate_budget`` sets the connection's ``lift_rate_budget`` extra instead:
        every task then sends as fast as it can, whatever ``requests_per_minute`` it
        names, so a DAG written for a live site's budget runs at test speed. A 429
        without ``Retry-After`` holds the client for ``rate_limit_block_seconds`` (1
        here, not Chargebee's minute: the emulator's limits are what it says they are).
        """
        extra: dict[str, Any] = {
            "base_url": self.base_url,
            "rate_limit_block_seconds": EMULATED_BLOCK_SECONDS,
        }
        if lift_rate_budget:
            extra["lift_rate_budget"] = True
        else:
            extra["requests_per_minute"] = self.requests_per_minute or UNPACED_REQUESTS_PER_MINUTE
        return json.dumps(
            {"conn_type": conn_type, "host": self.site, "password": self.api_key, "extra": extra}
        )

    # Clock

    def advance(self, seconds: float) -> None:
        """Move the emulator clock forward, e.g. past the 30-minute idempotency window."""
        self.clock.advance(seconds)

    # State

    def add_customer(self, customer_id: str, *, auto_collection: str = "on") -> dict[str, Any]:
        """Create a customer and return it as ``GET /customers/{id}`` shows it.

        Auto collection lives here (and on subscriptions), never on invoices:
        ``stop_dunning`` and ``pause_dunning`` are refused for an invoice whose
        customer has it ``off`` (unless its subscription overrides it ``on``).
        """
        return self._store.add_customer(customer_id, auto_collection)

    def add_subscription(
        self, subscription_id: str, *, customer_id: str, auto_collection: str | None = None
    ) -> dict[str, Any]:
        """Create a subscription of an existing customer; ``auto_collection`` None takes the
        customer's, ``on``/``off`` overrides it for the subscription's invoices."""
        return self._store.add_subscription(subscription_id, customer_id, auto_collection)

    def customer(self, customer_id: str) -> dict[str, Any]:
        """A copy of one customer; KeyError when unknown."""
        return self._store.account("customer", customer_id)

    def subscription(self, subscription_id: str) -> dict[str, Any]:
        """A copy of one subscription; KeyError when unknown."""
        return self._store.account("subscription", subscription_id)

    def add_invoice(self, invoice_id: str, **fields: Unpack[InvoiceFields]) -> dict[str, Any]:
        """Create an invoice and return it (v2 shape); see :class:`InvoiceFields`.

        ``date`` and ``expected_payment_date`` take epoch seconds, ISO-8601 text or
        an aware datetime; a wrong type or value is refused here, naming the field.
        Its customer (``cus_<invoice_id>`` unless named) and subscription are
        created when new; ``auto_collection`` sets the customer's setting.
        """
        return self._store.add(invoice_id, complete(fields))

    def seed(
        self, count: int, *, prefix: str = "inv_", start: int = 1, **fields: Unpack[InvoiceFields]
    ) -> list[str]:
        """Create ``count`` invoices ``inv_000001``... (zero-padded: lexical order is numeric).

        ``status`` defaults to ``pending``; every other field as in :meth:`add_invoice`.
        """
        values = complete(fields)
        ids = [f"{prefix}{number:06d}" for number in range(start, start + count)]
        for invoice_id in ids:
            self._store.add(invoice_id, values)
        return ids

    def set_status(
        self, invoice_id: str, status: str, *, dunning_status: str | None = None
    ) -> dict[str, Any]:
        """Put an invoice in any status, as something outside the DAG would (a refund, a void).

        ``paid`` settles what is due and ``voided`` cancels it; ``dunning_status``
        is set when given.
        """
        return self._store.set_status(invoice_id, status, dunning_status)

    def record_payment(self, invoice_id: str, amount: int | None = None) -> dict[str, Any]:
        """A customer paying ``amount`` cents (default: all that is due); fully paid is ``paid``."""
        return self._store.record_payment(invoice_id, amount)

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        """A copy of one invoice (v2 shape); KeyError when unknown."""
        return self._store.get(invoice_id)

    def invoices(self) -> list[dict[str, Any]]:
        """Copies of all invoices, by date then id."""
        return self._store.all()

    # Records

    def count_applied(self, action: str | None = None, invoice_id: str | None = None) -> int:
        """How many actions really changed an invoice, optionally of one action or invoice."""
        return sum(
            1
            for record in self.applied_actions
            if (action is None or record.action == action)
            and (invoice_id is None or record.invoice_id == invoice_id)
        )

    def duplicates(self, action: str | None = None) -> dict[str, int]:
        """Invoice ids acted on more than once, with counts: what a safe client never causes."""
        counts = Counter(
            record.invoice_id
            for record in self.applied_actions
            if action is None or record.action == action
        )
        return {invoice_id: n for invoice_id, n in counts.items() if n > 1}

    def reset_log(self) -> None:
        """Forget recorded requests and applied actions; invoices stay as they are."""
        self.applied_actions.clear()
        self.requests.clear()
        self._in_flight.reset()

    # Rate limit

    @property
    def requests_per_minute(self) -> int | None:
        return self._limiter.limit

    @requests_per_minute.setter
    def requests_per_minute(self, value: int | None) -> None:
        self._limiter.limit = value

    @property
    def rate_limit_window(self) -> RateLimitWindow:
        """How the limit is counted: ``fixed`` calendar minutes (the default), a ``sliding``
        60-second window, or a ``token_bucket`` holding one second's worth."""
        return self._window

    @rate_limit_window.setter
    def rate_limit_window(self, value: RateLimitWindow) -> None:
        self._limiter = make_limiter(value, self.clock, self._limiter.limit)
        self._window = value

    @property
    def max_in_flight(self) -> int:
        """The most requests handled at once since the start or :meth:`reset_log`."""
        return self._in_flight.peak

    @property
    def processing_seconds(self) -> float:
        """How long each idempotent POST stays in progress; a same-key repeat meanwhile
        is refused with a state conflict worded by :attr:`in_flight_message`."""
        return self._site.processing_seconds

    @processing_seconds.setter
    def processing_seconds(self, value: float) -> None:
        if value < 0:
            raise ValueError("processing_seconds must not be negative")
        self._site.processing_seconds = value

    @property
    def rate_limited_count(self) -> int:
        """How many requests the rate limit refused (injected 429s count in ``faults``)."""
        return self._site.rate_limited_count

    # Answering

    def respond(self, request: Request, headers: dict[str, str]) -> Answer | Disconnect:
        """The request path: faults, rate limit and site, in the one place they meet.

        The HTTP server and :meth:`mock_transport` both answer through here. The
        request is logged before the answer is given, so a client that has read the
        answer always finds its request in the log. Control requests (see
        :mod:`~airflow_provider_cb.testing.control_api`) bypass all of it.
        """
        if request.path.startswith(CONTROL_PREFIX):
            return self._control.handle(request)
        with self._in_flight:
            return self._serve_counted(request, headers)

    def _serve_counted(self, request: Request, headers: dict[str, str]) -> Answer | Disconnect:
        fault = self.faults.draw(request.method)
        retry_after = self._limiter.hit()
        answer: Answer | None = None
        if fault == "slow_response":
            time.sleep(self.faults.slow_seconds)
        if fault != "reset_before":
            if fault == "answer_unchanged" and request.method == "POST":
                # Not handled at all: the invoice as it is, as if the action had succeeded.
                unchanged = dataclasses.replace(
                    request, method="GET", path=request.path.rsplit("/", 1)[0], body=b""
                )
                answer = self._answer(unchanged, retry_after)
            else:
                answer = fault_kinds.canned_answer(fault) or self._answer(request, retry_after)
                answer = in_flight_worded(answer, self.in_flight_message)
            if fault in fault_kinds.ANSWER_FAULT_KINDS and fault != "answer_unchanged":
                answer = fault_kinds.misled(fault, answer)
            answer = self.dialect.apply(answer)
            if fault == "malformed_json":
                answer = fault_kinds.truncated(answer)
        delivered = None if fault in ("reset_before", "lose_response") else answer
        self.requests.append(
            RequestRecord(
                method=request.method,
                path=request.path,
                query=request.query,
                status=delivered.status if delivered is not None else None,
                idempotency_key=request.idempotency_key,
                replayed=delivered is not None and delivered.replayed,
                headers=headers,
                fault=fault,
                at=self.clock.now(),
            )
        )
        if fault == "reset_before":
            return Disconnect.RESET
        return Disconnect.DROP if delivered is None else delivered

    def mock_transport(self) -> httpx.MockTransport:
        """An httpx transport answered by this emulator in process: no server, no sockets.

        Works whether or not the server runs; faults that reset or drop the
        connection raise the httpx errors a real connection would.
        """
        from airflow_provider_cb.testing.mock import mock_transport

        return mock_transport(self.respond)

    def _answer(self, request: Request, retry_after: int | None) -> Answer:
        try:
            return self._site.handle(request, retry_after)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return ApiError(
                500,
                "internal_error",
                "Sorry, something went wrong in the emulator",
                error_type="operation_failed",
            ).answer()

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"ChargebeeEmulator({where}, {len(self._store)} invoices)"
