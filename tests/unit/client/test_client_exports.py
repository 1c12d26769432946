"""The client core's public face: the names ``airflow_provider_cb.client`` exports."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys

import airflow_provider_cb.client as client
from airflow_provider_cb.chargebee_api import errors

EXPECTED = {
    # clients and what they answer with
    "ChargebeeClient",
    "AsyncChargebeeClient",
    "ApiResponse",
    # settings and headers
    "ClientSettings",
    "RequestOrigin",
    # the action table
    "ACTIONS",
    "ApiVersion",
    "BodyField",
    "InvoiceAction",
    # errors
    "ChargebeeError",
    "ChargebeeValidationError",
    "ChargebeeTransportError",
    "ConnectionFailedError",
    "RateLimitStoreError",
    "ChargebeeAPIError",
    "InvalidRequestError",
    "AuthenticationError",
    "AuthorizationError",
    "NotFoundError",
    "InvalidStateError",
    "IdempotencyConflictError",
    "RateLimitError",
    "ServerError",
}


def test_the_package_exports_exactly_its_public_names() -> None:
    assert set(client.__all__) == EXPECTED
    assert len(client.__all__) == len(EXPECTED)


def test_a_star_import_gives_every_exported_name() -> None:
    namespace: dict[str, object] = {}
    exec("from airflow_provider_cb.client import *", namespace)

    assert set(namespace) - {"__builtins__"} == EXPECTED


def test_errors_holds_exception_classes_only_and_all_are_exported() -> None:
    public = {
        name: value
        for name, value in vars(errors).items()
        if name.isidentifier() and not name.startswith("_") and name != "annotations"
    }

    assert public
    assert all(inspect.isclass(value) for value in public.values()), sorted(public)
    assert all(issubclass(value, errors.ChargebeeError) for value in public.values())
    assert set(public) <= set(client.__all__)


def test_the_hierarchy_drawn_at_the_top_of_errors_names_every_class() -> None:
    drawn = set(re.findall(r"^    (?:[│ ]*[├└]── )?(\w+)", errors.__doc__ or "", re.MULTILINE))
    classes = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.ChargebeeError)
    }

    assert drawn == classes


def test_one_module_of_the_core_loads_without_the_rest() -> None:
    """DAG files import the operators, which import a few modules of the core only."""
    probe = (
        "import sys, airflow_provider_cb.chargebee_api.errors\n"
        "print(sorted(m for m in sys.modules if m.startswith('airflow_provider_cb.chargebee_api.')))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout

    assert loaded.strip() == "['airflow_provider_cb.chargebee_api.errors']"
