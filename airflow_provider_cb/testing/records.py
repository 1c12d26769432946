"""What the emulator remembers about the traffic it saw, for tests to assert on."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AppliedAction:
    """An action that really changed an invoice (never a replay, never an error)."""

    invoice_id: str
    action: str
    api_version: str
    idempotency_key: str | None
    params: Mapping[str, Any]
    at: float


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One HTTP request as received; the Authorization header is never kept.

    ``status`` is None when no answer was sent (an injected reset or lost response).
    """

    method: str
    path: str
    query: str
    status: int | None
    idempotency_key: str | None
    replayed: bool
    headers: Mapping[str, str]
    fault: str | None
    at: float


class RecordLog(Sequence[T], Generic[T]):
    """An append-only list that handler threads and the test thread can share safely."""

    def __init__(self) -> None:
        self._items: list[T] = []
        self._lock = threading.Lock()

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def snapshot(self) -> list[T]:
        """A copy, stable while requests keep arriving."""
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        with self._lock:
            return self._items[index]

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    def __repr__(self) -> str:
        return f"RecordLog({self.snapshot()!r})"
