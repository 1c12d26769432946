"""Tell people what a Chargebee task did: counts, totals, failures with reasons, the report."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseNotifier

from airflow_provider_cb.operators.endings import RESULT_XCOM_KEY

if TYPE_CHECKING:
    from airflow.sdk import Context


class ChargebeeSummaryNotifier(BaseNotifier):
    """Turns a Chargebee task's result into a short message and hands it on.

    ``send`` receives the message and either sends it (a plain callable) or returns
    a notifier to run with the same context, e.g.
    ``lambda message: SmtpNotifier(to="ap@example.com", html_content=message)``.
    Use it as ``on_success_callback`` and ``on_failure_callback`` of an action task:
    on failure it reads the record the task kept under XCom key ``chargebee_result``.

    :param send: where the message goes.
    :param task_id: the task whose result to read (default: the task the callback is on).
    :param title: the message's first line (templated).
    """

    template_fields = ("title",)

    def __init__(
        self,
        send: Callable[[str], BaseNotifier | None],
        *,
        task_id: str | None = None,
        title: str | None = None,
    ) -> None:
        super().__init__()
        self.send = send
        self.task_id = task_id
        self.title = title

    def notify(self, context: Context) -> None:
        from airflow_provider_cb.invoicing.audit_report import result_message

        ti = context["ti"]
        task_id = self.task_id or ti.task_id
        result: Any = ti.xcom_pull(task_ids=task_id, key=RESULT_XCOM_KEY) or ti.xcom_pull(
            task_ids=task_id
        )
        if not isinstance(result, dict):
            message = f"{self.title or 'Chargebee'}\n{task_id}: no result was recorded"
        else:
            message = result_message(result, title=self.title)
        target = self.send(message)
        if isinstance(target, BaseNotifier):
            target(context)
