"""Every invoice field the provider reads exists in Chargebee's official Invoice model.

A decision resting on a field Chargebee never sends reads None against the real
API, whatever the emulator answers: ``invoice.get("auto_collection")`` made every
dunning preview ``not_eligible``. The provider's sources are scanned for reads
of an invoice (``invoice["x"]``, ``invoice.get("x")``, ``answer["invoice"]["x"]``,
also through an attribute such as ``self.invoice``) and each name is looked up
in the v2 ``InvoiceResponse`` or the v1 specification's ``Invoice`` (collect
answers in v1's shape).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.contract.official import V2_MODELS, sdk_fields, v1_invoice_fields

PACKAGE = Path(__file__).resolve().parents[2] / "airflow_provider_cb"


def _is_invoice(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return "invoice" in node.id.lower()
    if isinstance(node, ast.Attribute):
        return "invoice" in node.attr.lower()
    return (
        isinstance(node, ast.Subscript)
        and isinstance(node.slice, ast.Constant)
        and node.slice.value == "invoice"
    )


def _read_name(node: ast.AST) -> str | None:
    """The field name when ``node`` reads a constant key of an invoice, else None."""
    if isinstance(node, ast.Subscript) and _is_invoice(node.value):
        key = node.slice
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and node.args
        and _is_invoice(node.func.value)
    ):
        key = node.args[0]
    else:
        return None
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def invoice_reads(source: str) -> Iterator[str]:
    for node in ast.walk(ast.parse(source)):
        name = _read_name(node)
        if name is not None:
            yield name


def provider_invoice_reads() -> dict[str, list[str]]:
    """Field name -> the provider modules reading it (the testing kit is not the provider)."""
    reads: dict[str, list[str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "testing" in path.relative_to(PACKAGE).parts:
            continue
        for name in set(invoice_reads(path.read_text())):
            reads.setdefault(name, []).append(str(path.relative_to(PACKAGE.parent)))
    return reads


def test_the_scan_finds_each_form_of_read() -> None:
    source = (
        "invoice.get('a'); invoice['b']; self.invoice.get('c'); answer['invoice']['d']\n"
        "record.get('e'); invoice.get(name); invoices[0]"
    )
    assert sorted(invoice_reads(source)) == ["a", "b", "c", "d"]


def test_the_provider_reads_only_fields_of_the_official_invoice_models() -> None:
    reads = provider_invoice_reads()
    print("invoice fields the provider reads:", ", ".join(sorted(reads)))
    assert {"id", "status"} <= set(reads), "the scan found no reads: has the code moved?"
    official = set(sdk_fields(V2_MODELS["invoice"])) | set(v1_invoice_fields())
    invented = {name: where for name, where in sorted(reads.items()) if name not in official}
    assert invented == {}
