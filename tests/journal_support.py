"""Reading a task instance's journal back from Airflow's task state store, as a test sees it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from typing import Any

from airflow_provider_cb.invoicing.journal import INDEX_KEY, Journal
from airflow_provider_cb.testing import ChargebeeEmulator


class StoredState:
    """The task state store of one task instance, read from the metadata database.

    Writes go to an overlay and never reach the database: opening a journal to
    look at it must not change it.
    """

    def __init__(self, dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> None:
        from airflow._shared.state import TaskScope

        self.scope = TaskScope(dag_id=dag_id, run_id=run_id, task_id=task_id, map_index=map_index)
        self.overlay: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        import json

        from airflow.state import get_state_backend

        if key in self.overlay:
            return self.overlay[key]
        stored = get_state_backend().get(self.scope, key)
        return default if stored is None else json.loads(stored)

    def set(self, key: str, value: Any) -> None:
        self.overlay[key] = value

    def delete(self, key: str) -> None:
        self.overlay[key] = None


def stored_journal(dag_id: str, run_id: str, task_id: str, map_index: int = -1) -> Journal:
    """The journal as its last try left it."""
    state = StoredState(dag_id, run_id, task_id, map_index)
    index = state.get(INDEX_KEY)
    assert isinstance(index, dict), f"no journal for {dag_id}.{task_id} in {run_id}"
    return Journal(
        state,
        action=index["action"],
        try_number=max(index["tries"]),
        generation=index["generation"],
    ).open()


def task_instance(dag_id: str, task_id: str) -> tuple[str, int, int]:
    """The latest run id, try number and max tries of a task."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        ti = session.scalars(
            select(TaskInstance)
            .where(TaskInstance.dag_id == dag_id, TaskInstance.task_id == task_id)
            .order_by(TaskInstance.start_date.desc())
        ).first()
        assert ti is not None, f"no task instance of {dag_id}.{task_id}"
        return ti.run_id, ti.try_number, ti.max_tries


def schedule_retry(dag_id: str, task_id: str, run_id: str) -> None:
    """What the scheduler does for a task instance due another try (a dead worker, a clear).

    Each task instance of the task (every map index) gets its next try number.
    """
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = session.scalars(
            select(TaskInstance).where(
                TaskInstance.dag_id == dag_id,
                TaskInstance.task_id == task_id,
                TaskInstance.run_id == run_id,
            )
        ).all()
        assert tis, f"no task instance {dag_id}.{task_id} in {run_id}"
        for ti in tis:
            assert ti.try_number <= ti.max_tries, "no retry left"
            ti.try_number += 1
            ti.state = "up_for_retry"


def kill_when_applied(
    emulator: ChargebeeEmulator,
    process: subprocess.Popen[str],
    count: int,
    action: str = "close",
    timeout: float = 300,
) -> str:
    """SIGKILL the process group once the emulator applied ``count`` actions; its output."""
    deadline = time.monotonic() + timeout
    try:
        while emulator.count_applied(action) < count:
            assert process.poll() is None, "the task ended before it could be killed"
            assert time.monotonic() < deadline, "the task never got going"
            time.sleep(0.01)
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.kill()
        output, _ = process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    return output


def clear_task(dag_id: str, task_id: str, run_id: str) -> None:
    """``airflow tasks clear`` for one task instance, through the function the CLI and UI call."""
    from airflow.models.taskinstance import TaskInstance, clear_task_instances
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        tis = list(
            session.scalars(
                select(TaskInstance).where(
                    TaskInstance.dag_id == dag_id,
                    TaskInstance.task_id == task_id,
                    TaskInstance.run_id == run_id,
                )
            )
        )
        clear_task_instances(tis, session)
