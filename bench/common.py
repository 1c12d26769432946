"""What every benchmark shares: the emulator process, the machine's description, output."""

from __future__ import annotations

import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any, Self

from airflow_provider_cb.testing.service import Service

REPO = Path(__file__).resolve().parents[1]


def _busy_cpu_seconds() -> float:
    """CPU seconds all processes have used since boot (0 where /proc/stat is missing)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    """CPU seconds of this process and of the children it has waited for (emulator, CLI)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


LOAD_AT_START = os.getloadavg()
"""The load before the benchmark ran: figures from a busy machine are not comparable."""
_STARTED = (time.monotonic(), _busy_cpu_seconds(), _own_cpu_seconds())
API_KEY = "test_key"
SITE = "acme"


class EmulatorProcess(Service):
    """The emulator in a child process (see ``bench/server.py``), so it has its own GIL.

    ``stop()`` returns the emulator's counters: requests by status, 429s and their
    bursts, actions applied and invoices acted on more than once.
    """

    def __init__(
        self,
        seed: dict[str, int] | None = None,
        *,
        requests_per_minute: int | None = None,
        rate_limit_window: str = "fixed",
        start_timeout: float = 300.0,
    ) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="cb-bench-"))
        self.ready_file = self._dir / "url"
        self.stats_file = self._dir / "stats.json"
        command = [
            sys.executable,
            "-m",
            "bench.server",
            "--ready-file",
            str(self.ready_file),
            "--stats-file",
            str(self.stats_file),
        ]
        for status, count in (seed or {}).items():
            command += ["--seed", f"{status}={count}"]
        if requests_per_minute is not None:
            command += ["--requests-per-minute", str(requests_per_minute)]
        command += ["--rate-limit-window", rate_limit_window]
        self._command = command
        self._start_timeout = start_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.pid = 0

    def start(self) -> Self:
        """Start the process and wait for its ready file (seeding 100,000 takes a while)."""
        self._process = subprocess.Popen(self._command, cwd=REPO)
        self.pid = self._process.pid
        deadline = time.monotonic() + self._start_timeout
        while not self.ready_file.exists():
            if self._process.poll() is not None:
                raise RuntimeError(f"the emulator exited with {self._process.returncode}")
            if time.monotonic() > deadline:
                self._process.kill()
                raise RuntimeError("the emulator did not start in time")
            time.sleep(0.05)
        self.base_url = self.ready_file.read_text().strip()
        return self

    def stop(self) -> dict[str, Any]:
        """Stop the server and return its counters."""
        if self._process is None:
            raise RuntimeError("not started")
        self._process.send_signal(signal.SIGTERM)
        self._process.wait(timeout=120)
        self._process = None
        return dict(json.loads(self.stats_file.read_text()))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Leaving the block kills what :meth:`stop` did not stop (its counters are not needed)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
        shutil.rmtree(self._dir, ignore_errors=True)

    def connection_json(self, **extra: Any) -> str:
        """A ``chargebee`` Airflow connection to this emulator, with extra fields.

        Without a ``requests_per_minute`` the client-side budget is lifted: a benchmark
        measures the provider, not the default pace of 150 a minute.
        """
        if "requests_per_minute" not in extra:
            extra = {"lift_rate_budget": True, **extra}
        return json.dumps(
            {
                "conn_type": "chargebee",
                "host": SITE,
                "password": API_KEY,
                "extra": {"base_url": self.base_url, **extra},
            }
        )


def task_context() -> Any:
    """What an operator's ``execute`` reads from Airflow's context outside a DAG run."""
    ti = SimpleNamespace(map_index=-1, try_number=1, xcom_push=lambda **_: None)
    return {"ti": ti, "run_id": "bench"}


def invoice_ids(count: int, start: int = 1) -> list[str]:
    """The ids the emulator gives seeded invoices, ``inv_000001`` onwards."""
    return [f"inv_{number:06d}" for number in range(start, start + count)]


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return 0.0


def others_cores() -> float:
    """Cores' worth of CPU other processes used while this benchmark ran: 0 is a quiet run."""
    started, busy, own = _STARTED
    wall = time.monotonic() - started
    others = (_busy_cpu_seconds() - busy) - (_own_cpu_seconds() - own)
    return round(max(0.0, others) / wall, 2) if wall > 0 else 0.0


def machine() -> dict[str, Any]:
    """The machine and versions, recorded with every result so figures can be compared."""
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "airflow": version("apache-airflow"),
        "httpx": version("httpx"),
        "load_at_start": [round(value, 2) for value in LOAD_AT_START],
        "load_at_end": [round(value, 2) for value in os.getloadavg()],
        "others_cores": others_cores(),
    }


def emit(name: str, figures: dict[str, Any], **details: Any) -> None:
    """Print the run's result as one JSON line (the last line of stdout)."""
    print(json.dumps({"bench": name, "figures": figures, **details, "machine": machine()}))
