"""Answer Airflow approvals in ``dag.test()`` runs, and never let an unanswered one hang a test.

``dag.test()`` keeps a run alive while a human-in-the-loop task
(``ApprovalOperator``, ``HITLOperator``) awaits input, until a response is
recorded in the metadata database: a test that asks for approval and never
answers waits forever. An :class:`ApprovalDesk` watches the database from a
thread while the test runs. It answers the tasks it was told to answer, as the
named user, through the API server's own handler for ``PATCH .../hitlDetails``
(so the response, the responder and the task's resumption are Airflow's; only
the HTTP hop is left out), and fails any other task that waits longer than
``timeout`` seconds, the way Airflow's own response timeout does, saying how to
answer it. The ``chargebee_dags`` fixture has one as ``chargebee_dags.approvals``.
Nothing here imports Airflow until the desk starts.
"""

from __future__ import annotations

import importlib
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

from airflow_provider_cb.testing.service import Service

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
"""Seconds an approval nobody was told to answer may wait before its task fails."""


@dataclass(frozen=True)
class Answer:
    """What to answer a task's approval with, and as whom."""

    options: tuple[str, ...]
    by: str
    params_input: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Asked:
    """One approval as Airflow stored it for the UI, and how the desk answered it."""

    dag_id: str
    run_id: str
    task_id: str
    subject: str
    body: str | None
    options: tuple[str, ...]
    answer: Answer | None
    """``None`` when nobody was told to answer and the task failed on the timeout."""


class ApprovalDesk(Service):
    """Answers approvals in runs of this process's metadata database while it is open.

    ``desk.approve("approve_write_off", by="alice")`` before ``dag.test()``
    answers that task's approval in every run until the desk closes (``dag_id=``
    narrows it to one DAG); ``desk.reject(...)`` and ``desk.answer(task_id,
    options, by=...)`` likewise. ``desk.asked`` lists what each approval showed.
    """

    def __init__(self, *, timeout: float = DEFAULT_TIMEOUT, poll_interval: float = 0.25) -> None:
        self.timeout = timeout
        self.poll_interval = poll_interval
        self.asked: list[Asked] = []
        self.errors: list[Exception] = []
        self._answers: dict[tuple[str | None, str], Answer] = {}
        self._waiting_since: dict[Any, float] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def approve(self, task_id: str, *, by: str, dag_id: str | None = None) -> None:
        """Approve ``task_id`` (an ``ApprovalOperator``) as user ``by``."""
        self.answer(task_id, "Approve", by=by, dag_id=dag_id)

    def reject(self, task_id: str, *, by: str, dag_id: str | None = None) -> None:
        """Reject ``task_id`` (an ``ApprovalOperator``) as user ``by``."""
        self.answer(task_id, "Reject", by=by, dag_id=dag_id)

    def answer(
        self,
        task_id: str,
        options: str | list[str],
        *,
        by: str,
        dag_id: str | None = None,
        params_input: dict[str, Any] | None = None,
    ) -> None:
        """Answer ``task_id`` with ``options`` (and a form's ``params_input``) as user ``by``."""
        chosen = (options,) if isinstance(options, str) else tuple(options)
        with self._lock:
            self._answers[(dag_id, task_id)] = Answer(chosen, by, dict(params_input or {}))

    def asked_of(self, task_id: str) -> Asked:
        """The latest approval ``task_id`` asked for."""
        for asked in reversed(self.asked):
            if asked.task_id == task_id:
                return asked
        raise LookupError(f"{task_id} has not asked for approval; asked: {self.asked}")

    def start(self) -> Self:
        _prepare()
        self._stop.clear()
        self._thread = threading.Thread(target=self._watch, name="approval-desk", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def _watch(self) -> None:
        from airflow.utils.session import create_session

        while not self._stop.wait(self.poll_interval):
            try:
                with create_session() as session:
                    self._serve(session)
            except Exception as error:  # kept for the test to see; the desk keeps watching
                log.exception("the approval desk could not read or answer approvals")
                self.errors.append(error)

    def _serve(self, session: Session) -> None:
        """Answer or time out every task awaiting input now."""
        from airflow.models.taskinstance import TaskInstance
        from airflow.utils.state import TaskInstanceState
        from sqlalchemy import select
        from sqlalchemy.orm import joinedload

        waiting = session.scalars(
            select(TaskInstance)
            .where(TaskInstance.state == TaskInstanceState.AWAITING_INPUT)
            .options(joinedload(TaskInstance.hitl_detail))
        ).all()
        for ti in waiting:
            if ti.hitl_detail is not None and ti.hitl_detail.response_received:
                _resume_answered(session, ti)
                continue
            with self._lock:
                answer = self._answers.get((ti.dag_id, ti.task_id)) or self._answers.get(
                    (None, ti.task_id)
                )
            if answer is not None:
                self._record(ti, answer)
                _respond(session, ti, answer)
            elif time.monotonic() - self._waiting_since.setdefault(ti.id, time.monotonic()) > (
                self.timeout
            ):
                self._record(ti, None)
                _fail(session, ti, self.timeout)

    def _record(self, ti: Any, answer: Answer | None) -> None:
        detail = ti.hitl_detail
        self.asked.append(
            Asked(
                dag_id=ti.dag_id,
                run_id=ti.run_id,
                task_id=ti.task_id,
                subject=detail.subject,
                body=detail.body,
                options=tuple(detail.options),
                answer=answer,
            )
        )


def _prepare() -> None:
    """Import what the desk uses and configure the ORM on the caller's thread.

    The desk's thread would otherwise import Airflow's models while the test's
    thread does, and the two can deadlock on SQLAlchemy's mapper configuration.
    """
    from airflow.models import import_all_models
    from sqlalchemy.orm import configure_mappers

    for module in ("airflow.api_fastapi.core_api.routes.public.hitl", "airflow.models.trigger"):
        importlib.import_module(module)
    import_all_models()  # type: ignore[no-untyped-call]
    configure_mappers()


def _respond(session: Session, ti: Any, answer: Answer) -> None:
    """Record the answer through the API server's handler, as the UI's Respond button does."""
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from airflow.api_fastapi.core_api.datamodels.hitl import UpdateHITLDetailPayload
    from airflow.api_fastapi.core_api.routes.public.hitl import update_hitl_detail
    from fastapi import HTTPException

    try:
        update_hitl_detail(
            dag_id=ti.dag_id,
            dag_run_id=ti.run_id,
            task_id=ti.task_id,
            update_hitl_detail_payload=UpdateHITLDetailPayload(
                chosen_options=list(answer.options), params_input=answer.params_input
            ),
            user=SimpleAuthManagerUser(username=answer.by, role="admin"),
            session=session,
            map_index=ti.map_index,
        )
    except HTTPException as refused:
        _resume_with_error(session, ti, f"the answer {answer} was refused: {refused.detail}")


def _resume_answered(session: Session, ti: Any) -> None:
    """Resume a task that was answered but is parked again, with the answer it was given.

    The answer moves the task from awaiting input to scheduled in one commit, but
    ``dag.test()`` may write back the parked state it still holds for the task (the
    race the live sign-off test waits out). A second answer would be refused; the
    recorded one is handed to the task, as the answer's own handler does.
    """
    _resume(session, ti, ti.hitl_detail.as_resume_event_payload())


def _fail(session: Session, ti: Any, timeout: float) -> None:
    _resume_with_error(
        session,
        ti,
        f"nobody answered {ti.task_id}'s approval within {timeout:g} s of this test; answer it "
        f"with ApprovalDesk.approve/reject/answer({ti.task_id!r}, by=...) before dag.test()",
    )


def _resume_with_error(session: Session, ti: Any, message: str) -> None:
    """Resume the task with a timeout event, as Airflow's own response timeout does: it fails."""
    _resume(session, ti, {"error": message, "error_type": "timeout"})


def _resume(session: Session, ti: Any, payload: dict[str, Any]) -> None:
    """Hand a parked task ``payload`` as its trigger event: it is scheduled to go on with it."""
    from airflow.models.trigger import handle_event_submit
    from airflow.triggers.base import TriggerEvent

    handle_event_submit(
        TriggerEvent(payload),  # type: ignore[no-untyped-call]
        task_instance=ti,
        session=session,
    )
