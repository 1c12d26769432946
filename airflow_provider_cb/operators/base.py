"""The base of every Chargebee task: action operators, the selection and the sensor.

What they share lives here once: the templated connection id, one hook per task
execution (closed however the execution ends), the invoice link published as the
task starts, and bad input or a bad connection failing the task without retries.
It is a ``BaseOperator`` rather than a mixin because Airflow checks ``partial()``
and ``expand()`` keywords against the ``__init__`` of its own operator classes only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator
from airflow.sdk.exceptions import AirflowFailException

from airflow_provider_cb.chargebee_api.errors import ChargebeeValidationError
from airflow_provider_cb.links import publish_invoice_link

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_cb.hooks.chargebee import ChargebeeHook

DEFAULT_CONN_ID = "chargebee_default"


class ChargebeeBaseOperator(BaseOperator):
    """A task that talks to Chargebee; subclasses implement :meth:`run`.

    :param chargebee_conn_id: the Chargebee connection (templated).
    """

    template_fields: Sequence[str] = ("chargebee_conn_id",)

    def __init__(self, *, chargebee_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.chargebee_conn_id = chargebee_conn_id
        self._hook: ChargebeeHook | None = None

    def hook_options(self) -> dict[str, Any]:
        """Keyword arguments of this task's hook beyond the connection id."""
        return {}

    @property
    def hook(self) -> ChargebeeHook:
        """The execution's hook, made on first use from the rendered connection id."""
        if self._hook is None:
            # Imported here: parsing a DAG file needs no HTTP client.
            from airflow_provider_cb.hooks.chargebee import ChargebeeHook

            self._hook = ChargebeeHook(self.chargebee_conn_id, **self.hook_options())
        return self._hook

    def execute(self, context: Context) -> Any:
        publish_invoice_link(self, context)
        try:
            return self.run(context)
        except ChargebeeValidationError as error:
            # Bad input or a bad connection: no retry can fix it, and nothing was sent.
            raise AirflowFailException(f"{self.task_id}: {error}") from error
        finally:
            if self._hook is not None:
                self._hook.close()
                self._hook = None

    def run(self, context: Context) -> Any:
        """The task's work; its return value is the task's XCom."""
        raise NotImplementedError
