"""Chargebee's idempotency keys: one stored answer per key for 30 minutes.

The site marks a key as in progress while its first request is handled; a
repeat meanwhile is refused with a state conflict, so two in-flight duplicates
cannot both apply. What Chargebee answers there is documented nowhere (see
docs/fidelity.md): the conflict is the likeliest, its message unknown, so the
emulator's message is an option (:func:`in_flight_worded`) and a client must not
depend on it.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass, replace

from airflow_provider_cb.testing.clock import Clock
from airflow_provider_cb.testing.wire import IN_PROGRESS_MESSAGE, Answer, in_progress

KEY_MAX_LENGTH = 100
TTL_SECONDS = 30 * 60
DEFAULT_IN_FLIGHT_MESSAGE = IN_PROGRESS_MESSAGE
"""The emulator's default wording of the in-flight refusal (Chargebee's is unknown)."""
_IN_FLIGHT = in_progress().answer()


def in_flight_worded(answer: Answer, message: str) -> Answer:
    """The site's answer, with ``message`` as the wording when it is the in-flight refusal.

    Tests try several wordings, and none, to show that nothing depends on it; the
    code, status and body shape stay those of any state conflict.
    """
    if answer != _IN_FLIGHT or message == DEFAULT_IN_FLIGHT_MESSAGE:
        return answer
    body = json.loads(answer.body)
    body["message"] = message
    return replace(answer, body=json.dumps(body, separators=(",", ":")).encode())


@dataclass(frozen=True, slots=True)
class Stored:
    """What a key remembers: the request it was first used with and the answer given."""

    fingerprint: Hashable
    answer: Answer
    at: float


class IdempotencyStore:
    """Stored answers by key, forgotten ``TTL_SECONDS`` after they were stored."""

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._entries: OrderedDict[str, Stored] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Stored | None:
        with self._lock:
            stored = self._entries.get(key)
            if stored is not None and self._clock.now() - stored.at >= TTL_SECONDS:
                del self._entries[key]
                return None
            return stored

    def put(self, key: str, fingerprint: Hashable, answer: Answer) -> None:
        now = self._clock.now()
        with self._lock:
            self._entries[key] = Stored(fingerprint, answer, now)
            self._entries.move_to_end(key)
            self._forget_expired(now)

    def _forget_expired(self, now: float) -> None:
        """Entries are kept in the order stored, so expired ones sit at the front."""
        while self._entries:
            oldest = next(iter(self._entries.values()))
            if now - oldest.at < TTL_SECONDS:
                return
            self._entries.popitem(last=False)
