"""The task instance's journal in Airflow's ``task_state_store``.

The store persists per task instance (DAG, run, task, map index) across tries and
worker deaths, for 30 days by default. A clear (``airflow tasks clear``) keeps the
store but raises the task instance's ``max_tries``; the journal names each round
of tries by its first try (``max_tries - retries + 1``, as Airflow's own task
runner counts it), so a clear starts a new journal and a retry continues the old.
A preview writes nothing durable: it sends nothing a retry could repeat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_cb.invoicing.journal import Journal, JournalStore, MemoryStore

if TYPE_CHECKING:
    from airflow.sdk import Context


def generation_of(try_number: int, max_tries: Any, retries: int) -> int:
    """The first try of the current round of tries (it changes only when the task is cleared)."""
    if isinstance(max_tries, int) and not isinstance(max_tries, bool) and max_tries >= 0:
        return max(1, min(try_number, max_tries - retries + 1))
    return 1


def try_number_of(ti: Any) -> int:
    return int(getattr(ti, "try_number", None) or 1)  # a context made by hand may lack it


def open_journal(context: Context, action: str, *, retries: int, durable: bool) -> Journal:
    """This task instance's journal, with what earlier tries of this round wrote."""
    ti = context["ti"]
    try_number = try_number_of(ti)
    store: JournalStore = MemoryStore()
    if durable:
        store = context.get("task_state_store") or store
    return Journal(
        store,
        action=action,
        try_number=try_number,
        generation=generation_of(try_number, getattr(ti, "max_tries", None), retries),
    ).open()


def unopened_journal(context: Context, action: str, error: BaseException) -> Journal:
    """A journal in memory standing for one whose store failed to open: it holds no invoice,
    so the task's summary names each one ``not_sent``, and ``error`` says why."""
    try_number = try_number_of(context["ti"])
    journal = Journal(MemoryStore(), action=action, try_number=try_number, generation=1).open()
    journal.error = f"{type(error).__name__}: {error}"[:300]
    return journal
