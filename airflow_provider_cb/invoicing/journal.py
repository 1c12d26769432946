"""The write-ahead journal of one task instance: what was sent, and what came of it.

A task's worker may die at any moment (SIGKILL, a lost machine, a full disk); what
it learned must outlive it, so that a retry resumes instead of starting over and
the last try's summary covers every try. The journal lives in a small key-value
store that persists per task instance across tries (Airflow's ``task_state_store``;
a dict in tests). The store can only get, set and delete one key, and a value
should stay under about 64 KB, so the journal is:

- an **index** (:data:`INDEX_KEY`): the action, the generation (see below), the
  tries that ran, how many batches were written and the report each try wrote;
- **batches** (``chargebee-journal.<generation>.<n>``; Airflow 3.3.0's store
  refuses keys with ``/``) of at most ``batch_size``
  invoices: the ids and idempotency keys, written **before** any of them is sent,
  then the outcome of each invoice as it is known (flushed when the batch is
  complete, and within ``flush_seconds`` of the oldest outcome not yet written).

An invoice written ahead without an outcome was in flight when its try ended:
its request may or may not have reached Chargebee. Nothing here imports Airflow.

A *generation* is the first try of one round of tries. A retry keeps it; clearing
a task instance (``airflow tasks clear``: "do it again") starts a new one, and the
journal of the earlier generation is dropped: everything is judged afresh by the
invoices' state.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_provider_cb.invoicing.outcomes import ActionRecord

log = logging.getLogger(__name__)

INDEX_KEY = "chargebee-journal"
JOURNAL_VERSION = 1
BATCH_SIZE = 100
FLUSH_SECONDS = 1.0
"""An outcome waits in memory at most this long (or until its batch is complete)."""
MAX_MESSAGE = 200
IRREVERSIBLE = frozenset({"close", "collect", "write_off", "stop_dunning"})
"""Actions that can never need doing again once done: a retry does not send them again."""
SETTLED = frozenset({"done", "already_done"})
_ENTRY_FIELDS = (
    "outcome",
    "reason",
    "status_before",
    "status_after",
    "replayed",
    "attempts",
    "api_error_code",
    "message",
    "retryable",
    "customer_id",
    "currency_code",
    "total",
    "amount_due",
    "write_off_amount",
    "invoice_date",
)


def batch_key(generation: Any, number: int) -> str:
    return f"{INDEX_KEY}.{generation}.{number}"


class JournalUnavailableError(RuntimeError):
    """The journal could not be written ahead of a batch: the batch is not sent."""


class JournalStore(Protocol):
    """What the journal needs of its store: Airflow's ``task_state_store`` has it."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...

    def delete(self, key: str) -> None: ...


class MemoryStore:
    """A store in a dict, of JSON copies as a real store keeps: for code run outside Airflow."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = json.loads(_json(value))

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


@dataclass
class Entry:
    """One invoice in the journal: its key, the try that sent it and, once known, its record."""

    invoice_id: str
    key: str | None
    sent_in_try: int
    record: dict[str, Any] | None = None

    def as_record(self, action: str) -> ActionRecord:
        """The journaled record; an invoice whose try ended before its answer is ``failed``."""
        if self.record is None:
            return ActionRecord(
                invoice_id=self.invoice_id,
                action=action,
                outcome="failed",
                idempotency_key=self.key,
                retryable=True,
                api_error_code="in_flight",
                message=(
                    f"sent in try {self.sent_in_try}, which ended before the answer was known; "
                    "the action may have been applied. A retry reads the invoice back first"
                ),
            )
        record = ActionRecord(
            invoice_id=self.invoice_id,
            action=action,
            outcome=self.record["outcome"],
            idempotency_key=self.key,
        )
        for name in _ENTRY_FIELDS:
            if name in self.record:
                setattr(record, name, self.record[name])
        return record


def _entry_of(record: ActionRecord) -> dict[str, Any]:
    """A record as the journal keeps it: no id, key or full invoice, no empty fields."""
    data = record.as_dict()
    kept = {name: data[name] for name in _ENTRY_FIELDS if data.get(name) not in (None, False)}
    if isinstance(kept.get("message"), str) and len(kept["message"]) > MAX_MESSAGE:
        kept["message"] = kept["message"][: MAX_MESSAGE - 1] + "…"
    return kept


def merge(earlier: Entry, later: Entry) -> Entry:
    """The later try's word wins, except that a ``done`` stays ``done`` when later found done."""
    if (
        earlier.record is not None
        and earlier.record.get("outcome") == "done"
        and (later.record is None or later.record.get("outcome") in SETTLED)
    ):
        return earlier
    return later


@dataclass
class Batch:
    number: int
    sent_in_try: int
    ids: list[str]
    keys: list[str | None]
    outcomes: dict[str, dict[str, Any]] = field(default_factory=dict)
    written_at: str = ""

    def as_value(self) -> dict[str, Any]:
        return {
            "try": self.sent_in_try,
            "written_at": self.written_at,
            "ids": self.ids,
            "keys": self.keys,
            "outcomes": self.outcomes,
        }

    @classmethod
    def from_value(cls, number: int, value: Mapping[str, Any]) -> Batch:
        return cls(
            number=number,
            sent_in_try=int(value["try"]),
            ids=list(value["ids"]),
            keys=list(value["keys"]),
            outcomes=dict(value.get("outcomes") or {}),
            written_at=str(value.get("written_at", "")),
        )


class Journal:
    """One task instance's journal; every method runs on the task's main thread.

    :meth:`open` reads what earlier tries of this generation wrote; :meth:`ahead`
    wraps the ids a run is about to send so that each batch is written before its
    first invoice goes out; :meth:`record` takes each outcome; :meth:`close`
    flushes what is left.
    """

    def __init__(
        self,
        store: JournalStore,
        *,
        action: str,
        try_number: int,
        generation: int,
        batch_size: int = BATCH_SIZE,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.store = store
        self.action = action
        self.try_number = try_number
        self.generation = generation
        self.batch_size = batch_size
        self.flush_seconds = flush_seconds
        self.index: dict[str, Any] = {}
        self.past: dict[str, Entry] = {}
        self.cleared_tries: list[int] = []
        self.writes = 0
        self.bytes_written = 0
        self.write_seconds = 0.0
        self.error: str | None = None
        self._index_dirty = False
        self._open: dict[str, Batch] = {}
        self._unflushed: set[int] = set()
        self._oldest_unflushed: float | None = None
        self._batches: dict[int, Batch] = {}
        self._home: dict[str, Batch] = {}
        self._sent: set[str] = set()
        self.invoices: dict[str, dict[str, Any]] = {}
        """Full invoices this try's records carried (``include_invoice``): kept in memory only."""

    # -- opening ------------------------------------------------------------------

    def open(self) -> Journal:
        """Read the index and earlier tries' batches; drop a journal left from before a clear."""
        index = self.store.get(INDEX_KEY)
        if isinstance(index, dict) and index.get("version") == JOURNAL_VERSION:
            if index.get("generation") == self.generation and index.get("action") == self.action:
                self.index = index
            else:
                self.cleared_tries = list(index.get("tries", []))
                self._drop(index)
        if not self.index:
            self.index = {
                "version": JOURNAL_VERSION,
                "action": self.action,
                "generation": self.generation,
                "tries": [],
                "batches": 0,
                "reports": [],
            }
        for number in range(int(self.index["batches"])):
            value = self.store.get(self._batch_key(number))
            if not isinstance(value, dict):
                continue  # counted in the index, then the worker died before writing it
            batch = Batch.from_value(number, value)
            self._batches[number] = batch
            for invoice_id, key in zip(batch.ids, batch.keys, strict=True):
                entry = Entry(invoice_id, key, batch.sent_in_try, batch.outcomes.get(invoice_id))
                known = self.past.get(invoice_id)
                self.past[invoice_id] = entry if known is None else merge(known, entry)
                self._home[invoice_id] = batch
        if self.try_number not in self.index["tries"]:
            self.index["tries"] = [*self.index["tries"], self.try_number]
            self._write(INDEX_KEY, self.index)
        return self

    def _drop(self, index: Mapping[str, Any]) -> None:
        generation = index.get("generation")
        for number in range(int(index.get("batches", 0))):
            self.store.delete(batch_key(generation, number))
        self.store.delete(INDEX_KEY)

    def _batch_key(self, number: int) -> str:
        return batch_key(self.generation, number)

    # -- what a retry does ----------------------------------------------------------

    @property
    def tries(self) -> list[int]:
        return list(self.index["tries"])

    def settled(self, invoice_id: str) -> ActionRecord | None:
        """An earlier try's record that this try must not send again, or None."""
        entry = self.past.get(invoice_id)
        if entry is None or entry.record is None or self.action not in IRREVERSIBLE:
            return None
        return entry.as_record(self.action) if entry.record.get("outcome") in SETTLED else None

    def unsettled(self, invoice_id: str) -> Entry | None:
        """An earlier try's invoice whose request may have landed unseen: read it back first.

        That is one written ahead without an outcome, or one that failed retryably (a
        timeout, a dropped connection, a stop while in flight): Chargebee may have acted.
        """
        entry = self.past.get(invoice_id)
        if entry is None:
            return None
        if entry.record is None:
            return entry
        failed_unseen = entry.record.get("outcome") == "failed" and entry.record.get("retryable")
        return entry if failed_unseen else None

    # -- writing --------------------------------------------------------------------

    def ahead(self, ids: Iterable[str], keys: Mapping[str, str | None]) -> Iterator[str]:
        """Yield ``ids``; each batch is written to the store before its first id is yielded."""
        chunk: list[str] = []
        for invoice_id in ids:
            chunk.append(invoice_id)
            if len(chunk) == self.batch_size:
                yield from self._write_ahead(chunk, keys)
                chunk = []
        if chunk:
            yield from self._write_ahead(chunk, keys)

    def _write_ahead(self, chunk: Sequence[str], keys: Mapping[str, str | None]) -> Iterator[str]:
        """Write the batch, then yield its ids; a store that cannot take it stops the run here."""
        number = int(self.index["batches"])
        batch = Batch(
            number=number,
            sent_in_try=self.try_number,
            ids=list(chunk),
            keys=[keys.get(invoice_id) for invoice_id in chunk],
            written_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
        self.index["batches"] = number + 1
        self._batches[number] = batch
        for invoice_id in chunk:
            self._open[invoice_id] = batch
        try:
            self._write(INDEX_KEY, self.index)
            self._write(self._batch_key(number), batch.as_value())
        except Exception as error:
            raise JournalUnavailableError(
                f"the task's journal could not be written ({type(error).__name__}: {error}); "
                "nothing more is sent without it"
            ) from error
        for invoice_id in chunk:
            yield invoice_id
            # The sender asks for the next id only once it has sent this one (a sender
            # that stops, or is stopped, never comes back): from here it may have acted.
            self._sent.add(invoice_id)

    def record(self, record: ActionRecord) -> None:
        """Take one outcome; it reaches the store within ``flush_seconds``.

        An invoice this try did not send (read back after an earlier try sent it) is
        recorded in the batch that sent it, so the record names the try that acted.
        """
        batch = self._open.pop(record.invoice_id, None) or self._home.get(record.invoice_id)
        if batch is None:
            batch = self._batch_for_unsent(record)
        batch.outcomes[record.invoice_id] = _entry_of(record)
        if record.invoice is not None:
            self.invoices[record.invoice_id] = record.invoice
        self._unflushed.add(batch.number)
        now = time.monotonic()
        if self._oldest_unflushed is None:
            self._oldest_unflushed = now
        complete = len(batch.outcomes) == len(batch.ids)
        if complete or now - self._oldest_unflushed >= self.flush_seconds:
            self.flush()

    def _batch_for_unsent(self, record: ActionRecord) -> Batch:
        """A record for an invoice no batch holds: journaled in a batch of its own at the flush."""
        number = int(self.index["batches"])
        batch = Batch(number, self.try_number, [record.invoice_id], [record.idempotency_key])
        self.index["batches"] = number + 1
        self._batches[number] = batch
        self._index_dirty = True
        return batch

    def flush(self) -> None:
        """Write the batches with new outcomes; a failure is kept in :attr:`error`, not raised.

        The outcomes stay in memory for this try's summary; what did not reach the
        store is in flight for a retry, which reads those invoices back.
        """
        try:
            if self._index_dirty:
                self._write(INDEX_KEY, self.index)
                self._index_dirty = False
            for number in sorted(self._unflushed):
                self._write(self._batch_key(number), self._batches[number].as_value())
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"[:300]
            log.error("the journal could not be written: %s", self.error)
            return
        self._unflushed.clear()
        self._oldest_unflushed = None

    def close(self) -> list[str]:
        """Flush; returns the ids written ahead whose run ended without sending them.

        An id handed to the sender and never answered is not among them: its request
        may have gone out, so it stays in flight for a retry to read back.
        """
        self.flush()
        unsent = [invoice_id for invoice_id in self._open if invoice_id not in self._sent]
        self._open.clear()
        return unsent

    def note_report(self, report: Mapping[str, Any]) -> None:
        """Keep each try's report path (or its failure) in the index, for the last try to list."""
        self.index["reports"] = [*self.index.get("reports", []), dict(report)]
        try:
            self._write(INDEX_KEY, self.index)
        except Exception as error:
            self.error = f"{type(error).__name__}: {error}"[:300]
            log.error("the journal could not be written: %s", self.error)

    def _write(self, key: str, value: Any) -> None:
        started = time.perf_counter()
        self.store.set(key, value)
        self.write_seconds += time.perf_counter() - started
        self.writes += 1
        self.bytes_written += len(_json(value))

    # -- reading the whole task -----------------------------------------------------

    def entries(self) -> dict[str, Entry]:
        """Every invoice of every try of this generation, merged (see :func:`merge`)."""
        merged: dict[str, Entry] = {}
        for number in sorted(self._batches):
            batch = self._batches[number]
            for invoice_id, key in zip(batch.ids, batch.keys, strict=True):
                entry = Entry(invoice_id, key, batch.sent_in_try, batch.outcomes.get(invoice_id))
                known = merged.get(invoice_id)
                merged[invoice_id] = entry if known is None else merge(known, entry)
        return merged


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))
