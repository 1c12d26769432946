"""Scripted and random faults, to test how a client copes with a misbehaving API.

Faults are drawn once per incoming request, either from a script (one entry per
request, ``None`` meaning normal) or at random by rate. What each fault does:

``rate_limit``                 429 ``api_request_limit_exceeded`` with ``Retry-After: 1``
``rate_limit_no_retry_after``  the same 429 without ``Retry-After``
``lock_timeout``               429 ``lock_timeout``
``site_not_ready``             503 ``site_not_ready``
``server_503``                 503 ``internal_temporary_error``
``gateway_html_502``           502 with an HTML page, as a gateway in front would send
``gateway_html_504``           504 with an HTML page
``reset_before``               the connection is reset (RST) before the request is handled
``lose_response``              the request is handled (and its idempotent answer stored),
                               then the connection closes without an answer
``slow_response``              waits ``slow_seconds`` first, then handles the request normally
``malformed_json``             the request is handled, then answered 200 with the JSON cut short

Misleading answers, for testing that a client trusts only evidence (not part of a
random mix unless named; a retry with the same key is answered normally):

``answer_empty``               the request is handled, then answered 200 ``{}``
``answer_invoice_text``        the request is handled, then answered 200 ``{"invoice": "ok"}``
``answer_other_invoice``       the request is handled, then answered with another invoice's id
``answer_unchanged``           the request is *not* handled; 200 with the invoice as it is

Answers made up by a fault are never stored under an idempotency key; faulted
requests still count against the rate limit.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, deque
from collections.abc import Collection, Iterable, Mapping

from airflow_provider_cb.testing.wire import Answer, ApiError, json_answer, rate_limited

FAULT_KINDS = (
    "rate_limit",
    "rate_limit_no_retry_after",
    "lock_timeout",
    "site_not_ready",
    "server_503",
    "gateway_html_502",
    "gateway_html_504",
    "reset_before",
    "lose_response",
    "slow_response",
    "malformed_json",
)

ANSWER_FAULT_KINDS = (
    "answer_empty",
    "answer_invoice_text",
    "answer_other_invoice",
    "answer_unchanged",
)

_HTML = "text/html; charset=utf-8"


def _gateway_page(status: int, reason: str) -> Answer:
    page = (
        f"<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
        f"<center><h1>{status} {reason}</h1></center>\r\n</body>\r\n</html>\r\n"
    )
    return Answer(status, page.encode(), _HTML)


_CANNED: Mapping[str, Answer] = {
    "rate_limit": rate_limited(1).answer(),
    "rate_limit_no_retry_after": rate_limited(None).answer(),
    "lock_timeout": ApiError(
        429,
        "lock_timeout",
        "Sorry, the request could not be processed as another request is working on the "
        "same resource. Please retry.",
        error_type="operation_failed",
    ).answer(),
    "site_not_ready": ApiError(
        503,
        "site_not_ready",
        "Sorry, the site is temporarily unavailable due to scheduled maintenance.",
        error_type="operation_failed",
    ).answer(),
    "server_503": ApiError(
        503,
        "internal_temporary_error",
        "Sorry, something went wrong on our side. Please retry.",
        error_type="operation_failed",
    ).answer(),
    "gateway_html_502": _gateway_page(502, "Bad Gateway"),
    "gateway_html_504": _gateway_page(504, "Gateway Time-out"),
}


def canned_answer(kind: str | None) -> Answer | None:
    """The answer that replaces handling for this fault, if it is that kind of fault."""
    return _CANNED.get(kind) if kind is not None else None


def misled(kind: str, answer: Answer) -> Answer:
    """A handled request's answer, rewritten as a misbehaving proxy or API would."""
    if answer.status >= 300:
        return answer
    body = json.loads(answer.body)
    if kind == "answer_empty":
        body = {}
    elif kind == "answer_invoice_text":
        body = {"invoice": "ok"}
    elif kind == "answer_other_invoice" and isinstance(body.get("invoice"), dict):
        body["invoice"]["id"] = "inv_someone_else"
    return json_answer(answer.status, body)


def truncated(answer: Answer) -> Answer:
    """A 200 whose JSON body stops halfway, as a cut connection through a proxy leaves it."""
    return Answer(200, answer.body[: max(1, len(answer.body) // 2)], answer.content_type)


class Faults:
    """The fault plan of one emulator; safe to change while requests are served."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._script: deque[str | None] = deque()
        self._script_methods: frozenset[str] | None = None
        self._rates: list[tuple[str, float]] = []
        self._rate_methods: frozenset[str] | None = None
        self._random = random.Random()
        self._injected: Counter[str] = Counter()
        self.slow_seconds = 2.0

    def script(
        self, sequence: Iterable[str | None], *, only_methods: Collection[str] | None = None
    ) -> None:
        """Replace the script: one entry per matching request, ``None`` meaning normal."""
        entries = list(sequence)
        for kind in entries:
            if kind is not None:
                _check_kind(kind)
        with self._lock:
            self._script = deque(entries)
            self._script_methods = _methods(only_methods)

    def set_rates(
        self,
        rates: Mapping[str, float],
        *,
        seed: int | None = None,
        only_methods: Collection[str] | None = None,
    ) -> None:
        """Inject each fault with its probability per matching request (seeded: repeatable)."""
        cumulative: list[tuple[str, float]] = []
        total = 0.0
        for kind, rate in rates.items():
            _check_kind(kind)
            if not 0 <= rate <= 1:
                raise ValueError(f"rate of {kind} must be between 0 and 1, got {rate}")
            total += rate
            cumulative.append((kind, total))
        if total > 1:
            raise ValueError(f"fault rates add up to {total}, more than 1")
        with self._lock:
            self._rates = cumulative
            self._rate_methods = _methods(only_methods)
            self._random = random.Random(seed)

    def clear(self) -> None:
        """No more faults; the counts in :attr:`injected` are kept."""
        with self._lock:
            self._script.clear()
            self._rates = []

    @property
    def injected(self) -> Counter[str]:
        """How many faults of each kind were injected so far (a copy)."""
        with self._lock:
            return Counter(self._injected)

    @property
    def remaining(self) -> int:
        """Script entries not yet consumed."""
        return len(self._script)

    def draw(self, method: str) -> str | None:
        """The fault for one incoming request, or None; consumes a script entry if it applies."""
        if not self._script and not self._rates:
            return None
        with self._lock:
            kind: str | None = None
            if self._script and _applies(self._script_methods, method):
                kind = self._script.popleft()
            elif self._rates and _applies(self._rate_methods, method):
                roll = self._random.random()
                kind = next((k for k, bound in self._rates if roll < bound), None)
            if kind is not None:
                self._injected[kind] += 1
            return kind


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS and kind not in ANSWER_FAULT_KINDS:
        known = ", ".join((*FAULT_KINDS, *ANSWER_FAULT_KINDS))
        raise ValueError(f"unknown fault {kind!r}; known faults: {known}")


def _methods(only_methods: Collection[str] | None) -> frozenset[str] | None:
    return None if only_methods is None else frozenset(m.upper() for m in only_methods)


def _applies(methods: frozenset[str] | None, method: str) -> bool:
    return methods is None or method in methods
