"""A distributed Airflow on loopback: the CeleryExecutor with two workers, as a site runs it.

PostgreSQL holds the metadata and Celery's results, Redis is the Celery broker
(database 1) and the provider's shared rate budget (database 0, the connection's
``rate_limit_store``). The API server, scheduler, DAG processor and triggerer are
live.py's; the two ``airflow celery worker`` processes are the only executors.
Both workers run on this machine, so each reports its own working folder as its
host name: a task instance's ``hostname`` says which worker ran it.

The Chargebee emulator is the caller's, in the test process, so the test reads its
records (requests, 429s, actions per invoice) directly.
"""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import httpx
import psutil

from airflow_provider_cb.testing.emulator import ChargebeeEmulator
from tests.e2e.live import (
    SERVICES,
    START_TIMEOUT,
    LiveAirflow,
    Process,
    _environment,
    _ready,
    _token,
    free_port,
    poll,
    start,
)
from tests.e2e.postgres import start_postgres
from tests.helpers import REPO, airflow_cli
from tests.redis_server import RedisServer

DAG_FILES = (
    REPO / "example_dags" / "chargebee_month_end.py",
    REPO / "example_dags" / "chargebee_dunning_control.py",
)
WORKERS = ("worker-a", "worker-b")
WORKER_CONCURRENCY = 2
POOL_SLOTS = len(WORKERS) * WORKER_CONCURRENCY
HEARTBEAT_TIMEOUT = 30
"""Seconds without a task heartbeat before the scheduler fails (and retries) the try."""


@dataclass
class Cluster:
    """The running Airflow, its workers by the host name their task instances report."""

    live: LiveAirflow
    workers: dict[str, Process]

    def kill_worker(self, hostname: str) -> None:
        """SIGKILL a worker and every process it started, as a machine dies."""
        kill_tree(self.workers[hostname])


def kill_tree(process: Process) -> None:
    """SIGKILL a process and all its descendants, whatever process group each is in.

    Airflow puts each task runner in a group of its own, so killing the worker's
    group alone would leave the task running. Everything is stopped first, so
    nothing forks between listing the family and killing it.
    """
    if process.popen.poll() is not None:
        return  # reaped: its pid may belong to another process by now
    root = psutil.Process(process.popen.pid)
    family: set[psutil.Process] = set()
    while True:
        try:
            found = {root, *root.children(recursive=True)}
        except psutil.NoSuchProcess:
            found = set()
        if found <= family:
            break
        for member in found - family:
            with suppress(psutil.NoSuchProcess):
                member.send_signal(signal.SIGSTOP)
        family |= found
    for member in family:
        with suppress(psutil.NoSuchProcess):
            member.kill()
    process.popen.wait()


def _celery_environment(
    home: Path, port: int, emulator: ChargebeeEmulator, database: str, store: RedisServer
) -> dict[str, str]:
    env = _environment(home, port, emulator.base_url, free_port())
    extra = {
        "base_url": emulator.base_url,
        "requests_per_minute": emulator.requests_per_minute,
        "rate_limit_store": store.url,
    }
    connection = {"conn_type": "chargebee", "host": emulator.site, "password": emulator.api_key}
    env.update(
        {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__CORE__PARALLELISM": str(2 * POOL_SLOTS),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": database,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": database,
            "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{store.port}/1",
            "AIRFLOW__CELERY__RESULT_BACKEND": f"db+{database}",
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": "5",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_CHARGEBEE_DEFAULT": json.dumps({**connection, "extra": extra}),
        }
    )
    return env


def _migrate(env: Mapping[str, str]) -> None:
    done = subprocess.run(
        [*airflow_cli(), "db", "migrate"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"airflow db migrate failed:\n{done.stdout[-2000:]}{done.stderr[-4000:]}"
        )


def _start_worker(name: str, env: Mapping[str, str], folder: Path, stack: ExitStack) -> Process:
    """One worker in its own working folder, which its task instances report as their host."""
    workdir = folder / name
    workdir.mkdir()
    command = [
        "env", f"--chdir={workdir}", *airflow_cli(), "celery", "worker",
        "--celery-hostname", f"{name}@%h", "--skip-serve-logs", "--without-mingle", "--without-gossip",
    ]  # fmt: skip
    worker = start(
        name, command, {**env, "AIRFLOW__CORE__HOSTNAME_CALLABLE": "os.getcwd"}, folder, stack
    )
    stack.callback(kill_tree, worker)  # runs before start()'s stop: task runners go too
    return worker


def _worker_ready(worker: Process) -> bool | None:
    """Celery logs ``celery@NAME ready.`` once the worker consumes its queue."""
    return " ready." in worker.log.read_text(errors="replace") or None


def install_dags(folder: Path, edits: Mapping[str, str]) -> None:
    """Copy the example DAGs into the DAGs folder, each ``old: new`` edit made exactly once."""
    made = []
    for dag_file in DAG_FILES:
        source = dag_file.read_text()
        for old, new in edits.items():
            if old in source:
                assert source.count(old) == 1, f"{dag_file.name} has {old!r} more than once"
                source = source.replace(old, new)
                made.append(old)
        (folder / dag_file.name).write_text(source)
    assert sorted(made) == sorted(edits), f"no example DAG has {set(edits) - set(made)}"


@contextmanager
def distributed_airflow(
    folder: Path, emulator: ChargebeeEmulator, dag_edits: Mapping[str, str] | None = None
) -> Iterator[Cluster]:
    """Start everything, wait until usable, yield; stop every process on the way out.

    ``dag_edits`` are made to the example DAGs' text (e.g. a smaller chunk size) so that
    a test runs the DAG users copy, scaled to the test.
    """
    with ExitStack() as stack:
        database = start_postgres(folder, stack)
        store = stack.enter_context(RedisServer())
        home = folder / "home"
        (home / "dags").mkdir(parents=True)
        install_dags(home / "dags", dag_edits or {})
        port = free_port()
        env = _celery_environment(home, port, emulator, database, store)
        _migrate(env)
        processes = [
            start(
                name, [*airflow_cli(), *(arg.format(port=port) for arg in args)], env, folder, stack
            )
            for name, args in SERVICES
        ]
        workers = {str(folder / name): _start_worker(name, env, folder, stack) for name in WORKERS}
        base_url = f"http://127.0.0.1:{port}"
        api = stack.enter_context(httpx.Client(base_url=base_url, timeout=30))
        live = LiveAirflow(home, base_url, emulator.base_url, [*processes, *workers.values()], api)
        dag_ids = {path.stem for path in DAG_FILES}
        try:
            token = poll("the API server", lambda: _token(api), START_TIMEOUT, 1.0)
            api.headers["Authorization"] = f"Bearer {token}"
            poll("Airflow to become healthy", lambda: _ready(api, dag_ids), START_TIMEOUT, 1.0)
            for worker in workers.values():
                poll(f"{worker.name} to be ready", partial(_worker_ready, worker), START_TIMEOUT)
        except TimeoutError as error:
            raise RuntimeError(f"{error}\n{live.tails()}") from None
        pool = {"name": "chargebee", "slots": POOL_SLOTS, "description": "the emulated site"}
        live.post("/api/v2/pools", pool)
        yield Cluster(live, workers)
