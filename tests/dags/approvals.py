"""Answer a human-in-the-loop approval the way Airflow's REST API does, from another thread.

``dag.test()`` keeps a run alive while a task awaits input, until a response is
recorded in the metadata database. This calls the API server's own handler for
``PATCH .../hitlDetails`` with a signed-in user, so the response, the responder
and the task's resumption are Airflow's; only the HTTP hop is left out (the live
test in ``tests/e2e`` makes it).
"""

from __future__ import annotations

import threading
import time
from typing import Any

AWAIT_SECONDS = 120.0


def answer_when_asked(dag_id: str, task_id: str, option: str, user: str) -> threading.Thread:
    """Start a thread that answers the task's approval with ``option`` as ``user``."""
    errors: list[BaseException] = []

    def answer() -> None:
        try:
            _answer(dag_id, task_id, option, user)
        except BaseException as error:  # reported by the joining test
            errors.append(error)
            raise

    thread = threading.Thread(target=answer, daemon=True)
    thread.errors = errors  # type: ignore[attr-defined]
    thread.start()
    return thread


def _answer(dag_id: str, task_id: str, option: str, user: str) -> None:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState
    from sqlalchemy import select

    deadline = time.monotonic() + AWAIT_SECONDS
    while time.monotonic() < deadline:
        with create_session() as session:
            run_id = session.scalar(
                select(TaskInstance.run_id).where(
                    TaskInstance.dag_id == dag_id,
                    TaskInstance.task_id == task_id,
                    TaskInstance.state == TaskInstanceState.AWAITING_INPUT,
                )
            )
            if run_id is not None:
                update_hitl_detail(
                    dag_id=dag_id,
                    dag_run_id=run_id,
                    task_id=task_id,
                    update_hitl_detail_payload=UpdateHITLDetailPayload(chosen_options=[option]),
                    user=SimpleAuthManagerUser(username=user, role="admin"),
                    session=session,
                    map_index=-1,
                )
                return
        time.sleep(0.2)
    raise TimeoutError(f"{dag_id}.{task_id} never awaited input")


def asked_of(dag_run: Any, task_id: str) -> tuple[str, str | None]:
    """The subject and body an approval showed, as Airflow stored them for the UI."""
    from airflow.models.hitl import HITLDetail
    from airflow.utils.session import create_session
    from sqlalchemy import select

    ti = dag_run.get_task_instance(task_id)
    with create_session() as session:
        detail = session.scalars(select(HITLDetail).where(HITLDetail.ti_id == ti.id)).one()
        return detail.subject, detail.body
