"""Write the action tables of docs/operators.md from the action table, ACTIONS.

Usage: python scripts/gen_operator_docs.py [--check]

The operators, their endpoints, what they act on and their body fields are data in
``airflow_provider_cb.invoicing.action_table``; the doc shows them between marker comments
and is rewritten from that data, never by hand. ``--check`` only reports drift.
"""

from __future__ import annotations

import sys
from pathlib import Path

from airflow_provider_cb import operators
from airflow_provider_cb.invoicing.action_table import ACTIONS, BodyField, InvoiceAction

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "operators.md"


def operator_names() -> dict[str, str]:
    """Action name -> the exported operator class that runs it."""
    found: dict[str, str] = {}
    for name in operators.__all__:
        action = getattr(getattr(operators, name), "action", None)
        if isinstance(action, InvoiceAction):
            found[action.name] = name
    return found


def _field_list(action: InvoiceAction) -> str:
    names = [f"`{f.name}`" + (" (required)" if f.required else "") for f in action.fields]
    return ", ".join(names) or "none"


def actions_table() -> str:
    names = operator_names()
    rows = [
        "| operator | endpoint | API | what it does | acts on | body fields |",
        "|---|---|---|---|---|---|",
    ]
    for action in ACTIONS.values():
        rows.append(
            f"| `{names[action.name]}` | `POST /invoices/{{id}}/{action.endpoint}` "
            f"| {action.api_version} | {action.summary} | {_acts_on(action)} "
            f"| {_field_list(action)} |"
        )
    return "\n".join(rows)


def _acts_on(action: InvoiceAction) -> str:
    """The states the action needs, and what only Chargebee can check."""
    text = action.acts_on.describe()
    if action.refused_while_paying:
        text += ", no payment in progress"
    if action.checked_by_chargebee:
        text += f" ({action.checked_by_chargebee})"
    return text


def fields_table() -> str:
    users: dict[BodyField, list[str]] = {}
    for action in ACTIONS.values():
        for field in action.fields:
            users.setdefault(field, []).append(f"`{action.name}`")
    rows = ["| field | actions | meaning and rule |", "|---|---|---|"]
    rows += [f"| `{f.name}` | {', '.join(names)} | {f.doc} |" for f, names in users.items()]
    return "\n".join(rows)


TABLES = {"actions": actions_table, "fields": fields_table}


def render(text: str) -> str:
    """The doc with every generated table rewritten between its markers."""
    for name, table in TABLES.items():
        start, end = f"<!-- generated:{name} -->", f"<!-- /generated:{name} -->"
        before, found, rest = text.partition(start)
        if not found or end not in rest:
            raise SystemExit(f"{DOC}: markers {start} ... {end} are missing")
        text = f"{before}{start}\n{table()}\n{end}{rest.partition(end)[2]}"
    return text


def main(argv: list[str]) -> int:
    current = DOC.read_text(encoding="utf-8")
    wanted = render(current)
    if wanted == current:
        return 0
    if "--check" in argv:
        print(f"{DOC.relative_to(REPO)} differs from ACTIONS: run {Path(__file__).name}")
        return 1
    DOC.write_text(wanted, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
