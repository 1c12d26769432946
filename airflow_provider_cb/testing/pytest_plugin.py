"""pytest fixtures for testing DAGs against the Chargebee emulator.

Registered through the ``pytest11`` entry point, so installing the provider is
enough. The emulator is imported only when a fixture is used, to keep every
other pytest run's start-up cheap. Whole-DAG tests need an Airflow home chosen
before Airflow is imported: with ``chargebee_airflow_home = true`` in the
project's pytest settings, the plugin makes a throwaway one before any conftest
or test module loads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_cb.testing.dags import (
    CONNECTION_ENV,
    HOME_OPTION,
    DagFolder,
    make_home,
    migrate,
    remove_home,
)

if TYPE_CHECKING:
    import httpx

    from airflow_provider_cb.testing.emulator import ChargebeeEmulator

_home: Path | None = None


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addini(
        HOME_OPTION,
        type="bool",
        default=False,
        help="make a throwaway Airflow home before Airflow is imported (chargebee_dags needs it)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    """Set the Airflow home before conftests load: they may import Airflow."""
    global _home
    if early_config.getini(HOME_OPTION):
        _home = make_home()


def pytest_unconfigure(config: pytest.Config) -> None:
    global _home
    if _home is not None:
        remove_home(_home)
        _home = None


@pytest.fixture
def chargebee_emulator() -> Iterator[ChargebeeEmulator]:
    """A started emulator with no invoices, stopped after the test."""
    from airflow_provider_cb.testing.emulator import ChargebeeEmulator

    with ChargebeeEmulator() as emulator:
        yield emulator


@pytest.fixture
def chargebee_conn_env(
    chargebee_emulator: ChargebeeEmulator, monkeypatch: pytest.MonkeyPatch
) -> ChargebeeEmulator:
    """The emulator, with ``chargebee_default`` pointing at it through the environment."""
    monkeypatch.setenv(CONNECTION_ENV, chargebee_emulator.connection_json())
    return chargebee_emulator


@pytest.fixture
def chargebee_mock_emulator() -> ChargebeeEmulator:
    """An emulator that never listens: clients reach it through ``chargebee_mock_transport``."""
    from airflow_provider_cb.testing.emulator import ChargebeeEmulator

    return ChargebeeEmulator()


@pytest.fixture
def chargebee_mock_transport(chargebee_mock_emulator: ChargebeeEmulator) -> httpx.MockTransport:
    """An httpx transport answered in process by ``chargebee_mock_emulator``: no sockets."""
    return chargebee_mock_emulator.mock_transport()


@pytest.fixture(scope="session")
def chargebee_airflow_home() -> Path:
    """The session's Airflow home, migrated once (needs ``chargebee_airflow_home = true``)."""
    if _home is None:
        pytest.fail(
            f"whole-DAG tests need an Airflow home set before Airflow is imported: add "
            f"'{HOME_OPTION} = true' to the [pytest] settings (or run pytest with "
            f"-o {HOME_OPTION}=true)",
            pytrace=False,
        )
    migrate(_home)
    return _home


@pytest.fixture
def chargebee_dags(
    chargebee_airflow_home: Path, chargebee_conn_env: ChargebeeEmulator
) -> Iterator[DagFolder]:
    """The DAGs folder of a migrated Airflow home, with ``chargebee_default`` on the emulator.

    ``chargebee_dags.load(name, source)`` or ``.load_file(path)`` returns a DAG
    ready for ``dag.test()``; ``.emulator`` is the emulator it talks to;
    ``.approvals`` answers approvals and fails those left unanswered for a minute.
    """
    from airflow_provider_cb.testing.approvals import ApprovalDesk

    with ApprovalDesk() as approvals:
        folder = DagFolder(chargebee_airflow_home / "dags", chargebee_conn_env, approvals)
        yield folder
    for written in folder.folder.glob("*.py"):
        written.unlink()
