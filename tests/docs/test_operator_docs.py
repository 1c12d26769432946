"""The action table, ACTIONS, is the only source: of docs/operators.md and of every keyword."""

from __future__ import annotations

import inspect
import runpy
from collections.abc import Callable
from typing import Any

import pytest

from airflow_provider_cb import operators
from airflow_provider_cb.hooks.chargebee import ChargebeeHook
from airflow_provider_cb.invoicing.action_table import ACTIONS
from airflow_provider_cb.operators.action import InvoiceActionOperator
from tests.helpers import REPO

GENERATOR = runpy.run_path(str(REPO / "scripts" / "gen_operator_docs.py"))
DOC = REPO / "docs" / "operators.md"
HOOK_WRAPPERS = {
    "close": ChargebeeHook.close_invoice,
    "collect": ChargebeeHook.collect_invoice,
    "write_off": ChargebeeHook.write_off_invoice,
    "stop_dunning": ChargebeeHook.stop_dunning,
    "pause_dunning": ChargebeeHook.pause_dunning,
    "resume_dunning": ChargebeeHook.resume_dunning,
}
"""Only the hook's method names are not in the table; every other word is."""


def keywords(function: Callable[..., Any]) -> set[str]:
    parameters = inspect.signature(function).parameters.values()
    return {p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY}


def test_the_doc_shows_the_action_table_as_it_is() -> None:
    current = DOC.read_text(encoding="utf-8")

    assert GENERATOR["render"](current) == current, (
        "docs/operators.md differs from ACTIONS: run python scripts/gen_operator_docs.py"
    )


def test_the_generated_tables_name_every_action_and_field() -> None:
    actions, fields = GENERATOR["actions_table"](), GENERATOR["fields_table"]()

    for action in ACTIONS.values():
        assert f"`POST /invoices/{{id}}/{action.endpoint}`" in actions
        assert action.summary in actions
        for field in action.fields:
            assert f"| `{field.name}` |" in fields
            assert field.doc and field.doc in fields


def test_every_action_has_one_exported_operator() -> None:
    assert sorted(GENERATOR["operator_names"]()) == sorted(ACTIONS)


@pytest.mark.parametrize("name", GENERATOR["operator_names"]().values())
def test_an_operators_own_keywords_are_its_actions_fields(name: str) -> None:
    operator = getattr(operators, name)
    below_the_base = operator.__mro__[: operator.__mro__.index(InvoiceActionOperator)]
    own = set().union(
        *(
            keywords(vars(klass)["__init__"])
            for klass in below_the_base
            if "__init__" in vars(klass)
        )
    )

    assert own == set(operator.action.field_names)


@pytest.mark.parametrize("action", ACTIONS)
def test_a_hook_wrappers_keywords_are_its_actions_fields(action: str) -> None:
    wrapper = keywords(HOOK_WRAPPERS[action]) - {"idempotency_key"}

    assert wrapper == set(ACTIONS[action].field_names)


def test_every_action_has_a_hook_wrapper() -> None:
    assert set(HOOK_WRAPPERS) == set(ACTIONS)
