"""A real Airflow on loopback, as a user runs it: API server, scheduler, DAG processor, triggerer.

One SQLite home per test session, the LocalExecutor, the simple auth manager with
every user an admin (the REST API still wants a JWT, from ``GET /auth/token``), and
the Chargebee emulator started by its CLI. Logging is at DEBUG, so the secret-leak
test sees everything a verbose deployment would write. Every process runs in its
own process group, killed with its children at the end even when start-up fails.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pendulum

from tests.helpers import REPO, airflow_cli

CANARY_KEY = "test_LEAKCANARY_1234"
"""The emulator's API key: a string that must never show up in logs, XCom or the UI."""
WRONG_KEY = "test_WRONGKEY_5678"
"""A key the emulator refuses; as secret as the right one."""
SITE = "acme"
SEEDS = (("pending", 12), ("payment_due", 6), ("paid", 2))
"""inv_000001-012 pending, inv_000013-018 payment_due, inv_000019-020 paid (the CLI numbers on)."""
SEED_DATE = pendulum.now("UTC").start_of("month").subtract(days=15)
"""Every seeded invoice is dated in the middle of last month: the month a run triggered now
closes, and the month the example's latest cron run (03:00 on the 1st) closes."""
DAG_FILES = (
    REPO / "example_dags" / "chargebee_month_end.py",
    REPO / "example_dags" / "chargebee_write_off_old_debt.py",
    *(Path(__file__).parent / "dags").glob("*.py"),
)
SERVICES = (
    ("api-server", ["api-server", "--host", "127.0.0.1", "--port", "{port}"]),
    ("scheduler", ["scheduler", "--skip-serve-logs"]),
    ("dag-processor", ["dag-processor"]),
    ("triggerer", ["triggerer", "--skip-serve-logs"]),
)
START_TIMEOUT = 120.0
STOP_TIMEOUT = 15.0
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def poll(what: str, probe: Callable[[], T | None], timeout: float, interval: float = 0.5) -> T:
    """Call ``probe`` until it returns something other than None, or fail saying what."""
    deadline = time.monotonic() + timeout
    while True:
        result = probe()
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def tail(self, lines: int = 25) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return f"--- {self.name} ({self.log}) ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        """SIGTERM to the whole process group, then SIGKILL to whatever is left."""
        pgid = self.popen.pid
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                return
            deadline = time.monotonic() + STOP_TIMEOUT
            while time.monotonic() < deadline:
                self.popen.poll()
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.2)


def start(
    name: str, command: list[str], env: Mapping[str, str], folder: Path, stack: ExitStack
) -> Process:
    log = folder / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            command, env=dict(env), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    process = Process(name, popen, log)
    stack.callback(process.stop)
    return process


@dataclass
class LiveAirflow:
    """Handles on the running Airflow and emulator, and a REST client with a token."""

    home: Path
    base_url: str
    emulator_url: str
    processes: list[Process]
    api: httpx.Client = field(repr=False)

    def tails(self) -> str:
        return "\n".join(process.tail() for process in self.processes)

    def get(self, path: str, **params: Any) -> Any:
        response = self.api.get(path, params=params)
        response.raise_for_status()
        return response.json()

    def post(self, path: str, body: Mapping[str, Any]) -> Any:
        response = self.api.post(path, json=body)
        assert response.status_code < 300, f"POST {path}: {response.status_code} {response.text}"
        return response.json()

    def trigger(self, dag_id: str, run_id: str, **body: Any) -> None:
        self.post(
            f"/api/v2/dags/{dag_id}/dagRuns", {"dag_run_id": run_id, "logical_date": None, **body}
        )

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        listed = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances", limit=100)
        return list(listed["task_instances"])

    def task_state(self, dag_id: str, run_id: str, task_id: str) -> str | None:
        ti = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        return ti["state"]

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 90.0) -> str:
        """The run's final state; a run that does not finish in time fails with the logs."""

        def finished() -> str | None:
            state = self.get(f"/api/v2/dags/{dag_id}/dagRuns/{run_id}")["state"]
            return state if state in ("success", "failed") else None

        try:
            return poll(f"{dag_id} run {run_id} to finish", finished, timeout)
        except TimeoutError as error:
            states = {ti["task_id"]: ti["state"] for ti in self.task_instances(dag_id, run_id)}
            raise AssertionError(f"{error}; task states {states}\n{self.tails()}") from None

    def run_of_type(self, dag_id: str, run_type: str, timeout: float = 90.0) -> str:
        """The id of the DAG's first run of ``run_type`` (scheduled, asset_triggered) once it exists."""

        def created() -> str | None:
            runs = self.get(f"/api/v2/dags/{dag_id}/dagRuns", run_type=[run_type])["dag_runs"]
            return str(runs[0]["dag_run_id"]) if runs else None

        try:
            return poll(f"a {run_type} run of {dag_id}", created, timeout)
        except TimeoutError as error:
            raise AssertionError(f"{error}\n{self.tails()}") from None

    def xcom(
        self, dag_id: str, run_id: str, task_id: str, key: str = "return_value", map_index: int = -1
    ) -> Any:
        path = f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}"
        return self.get(path, map_index=map_index)["value"]

    def control(self, path: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Change the emulator's world from outside, e.g. seed invoices with a date of their own."""
        response = httpx.post(
            f"{self.emulator_url}/_emulator/{path}", json=body, auth=(CANARY_KEY, "")
        )
        assert response.status_code == 200, f"{path}: {response.status_code} {response.text}"
        return dict(response.json())

    def emulator(self, method: str, path: str, **params: Any) -> dict[str, Any]:
        """Talk to the emulator as Chargebee's API, e.g. to pay an invoice a sensor waits on."""
        response = httpx.request(
            method, f"{self.emulator_url}/api/v2{path}", params=params, auth=(CANARY_KEY, "")
        )
        response.raise_for_status()
        return dict(response.json())


def _environment(
    home: Path, port: int, emulator_url: str, closed_port: int, *, schedules: bool = False
) -> dict[str, str]:
    """Airflow's settings; ``schedules`` lets the scheduler start cron and asset-triggered runs."""

    def connection(key: str, **extra: Any) -> str:
        # The emulator limits nothing: no client-side pace (the default is 150 a minute).
        extra = {"lift_rate_budget": True, **extra}
        return json.dumps({"conn_type": "chargebee", "host": SITE, "password": key, "extra": extra})

    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("AIRFLOW", "_AIRFLOW"))
    }
    env.update(
        {
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__AUTH_MANAGER": (
                "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
            ),
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(port),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API__SECRET_KEY": secrets.token_hex(32),
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(64),
            "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": str(schedules),
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "DEBUG",
            "AIRFLOW_CONN_CHARGEBEE_DEFAULT": connection(CANARY_KEY, base_url=emulator_url),
            "AIRFLOW_CONN_CHARGEBEE_WRONG_KEY": connection(WRONG_KEY, base_url=emulator_url),
            "AIRFLOW_CONN_CHARGEBEE_UNREACHABLE": connection(
                CANARY_KEY, base_url=f"http://127.0.0.1:{closed_port}", max_retries=1
            ),
        }
    )
    return env


def _emulator(folder: Path, stack: ExitStack) -> tuple[Process, str]:
    ready = folder / "emulator.url"
    seeds = [arg for status, count in SEEDS for arg in ("--seed", f"{status}={count}")]
    command = [
        sys.executable, "-m", "airflow_provider_cb.testing",
        "--api-key", CANARY_KEY, "--site", SITE, *seeds, "--date", SEED_DATE.isoformat(),
        "--ready-file", str(ready),
    ]  # fmt: skip
    process = start("emulator", command, os.environ, folder, stack)
    url = poll(
        "the emulator's ready file",
        lambda: ready.read_text().strip() if ready.exists() else None,
        30,
        0.1,
    )
    return process, url


def _token(api: httpx.Client, login: tuple[str, str] | None = None) -> str | None:
    """A JWT once the API server answers; with all users admins no password is needed."""
    try:
        if login is None:
            response = api.get("/auth/token")
        else:
            response = api.post("/auth/token", json={"username": login[0], "password": login[1]})
    except httpx.HTTPError:
        return None
    return str(response.json()["access_token"]) if response.status_code == 201 else None


def _ready(api: httpx.Client, dag_ids: set[str]) -> bool | None:
    """Every component reports healthy and every DAG file has been parsed."""
    try:
        health = api.get("/api/v2/monitor/health").json()
        if any(part.get("status") != "healthy" for part in health.values()):
            return None
        listed = api.get("/api/v2/dags", params={"limit": 100}).json()
        return dag_ids <= {dag["dag_id"] for dag in listed["dags"]} or None
    except (httpx.HTTPError, ValueError, KeyError, AttributeError):
        return None


@contextmanager
def live_airflow(
    folder: Path,
    *,
    dag_files: tuple[Path, ...] = DAG_FILES,
    settings: Mapping[str, str] | None = None,
    login: tuple[str, str] | None = None,
) -> Iterator[LiveAirflow]:
    """Start everything, wait until usable, yield; stop every process group on the way out.

    ``settings`` add to or override Airflow's environment (users and roles, say), and
    ``login`` is then the user whose token the REST client carries.
    """
    with ExitStack() as stack:
        emulator, emulator_url = _emulator(folder, stack)
        home = folder / "home"
        (home / "dags").mkdir(parents=True)
        for dag_file in dag_files:
            (home / "dags" / dag_file.name).symlink_to(dag_file)
        port = free_port()
        # The scheduler runs the cron DAGs as it would in production, and the DAGs
        # scheduled on assets, so the pool exists before it starts.
        env = _environment(home, port, emulator_url, free_port(), schedules=True)
        env.update(settings or {})
        for setup in (["db", "migrate"], ["pools", "set", "chargebee", "4", "Chargebee site"]):
            subprocess.run([*airflow_cli(), *setup], env=env, check=True, capture_output=True)
        processes = [emulator]
        for name, args in SERVICES:
            command = [*airflow_cli(), *(arg.format(port=port) for arg in args)]
            processes.append(start(name, command, env, folder, stack))
        base_url = f"http://127.0.0.1:{port}"
        api = stack.enter_context(httpx.Client(base_url=base_url, timeout=30))
        live = LiveAirflow(home, base_url, emulator_url, processes, api)
        dag_ids = {path.stem for path in dag_files}  # each file is named after its DAG
        try:
            token = poll("the API server", lambda: _token(api, login), START_TIMEOUT, 1.0)
            api.headers["Authorization"] = f"Bearer {token}"
            poll("Airflow to become healthy", lambda: _ready(api, dag_ids), START_TIMEOUT, 1.0)
        except TimeoutError as error:
            raise RuntimeError(f"{error}\n{live.tails()}") from None
        yield live
