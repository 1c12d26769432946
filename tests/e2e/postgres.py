"""PostgreSQL from Debian's package, started on loopback for one test session.

The server keeps its data in a fresh folder and runs in its own process group,
stopped with the test's ExitStack. PostgreSQL refuses to run as root, so as root
its folder belongs to ``nobody`` and the server runs as that user. Redis, the
other Debian package the distributed test needs, is tests/redis_server.py's.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from contextlib import ExitStack
from pathlib import Path

from tests.e2e.live import free_port, poll, start

POSTGRES_VERSIONS = Path("/usr/lib/postgresql")
DATABASE = "airflow"
START_TIMEOUT = 60.0


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's programs (initdb, postgres, ...), if any."""
    versions = sorted(POSTGRES_VERSIONS.glob("*/bin/postgres"), key=lambda p: int(p.parts[-3]))
    return versions[-1].parent if versions else None


def missing() -> list[str]:
    """The Debian packages the distributed test needs and does not find."""
    found = {"postgresql": postgres_bin(), "redis-server": shutil.which("redis-server")}
    return [package for package, path in found.items() if path is None]


def _unprivileged(folder: Path) -> list[str]:
    """The command prefix that drops root to ``nobody``, who then owns ``folder``."""
    if os.geteuid() != 0:
        return []
    nobody = pwd.getpwnam("nobody")
    os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    return ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}", "--clear-groups"]


def _accepts_connections(bin_dir: Path, port: int) -> bool | None:
    ready = subprocess.run(
        [bin_dir / "pg_isready", "-q", "-h", "127.0.0.1", "-p", str(port)], check=False
    )
    return ready.returncode == 0 or None


def start_postgres(logs: Path, stack: ExitStack) -> str:
    """Start a PostgreSQL server with an ``airflow`` database; its SQLAlchemy URL, no password."""
    bin_dir = postgres_bin()
    assert bin_dir is not None, "PostgreSQL is not installed (Debian's postgresql)"
    # Outside any root-only folder, so that nobody can reach it.
    folder = Path(tempfile.mkdtemp(prefix="cb-postgres-"))
    stack.callback(shutil.rmtree, folder, ignore_errors=True)
    as_owner = _unprivileged(folder)
    data = folder / "data"
    subprocess.run(
        [*as_owner, bin_dir / "initdb", "-D", data, "-U", "airflow", "--auth=trust", "-E", "UTF8"],
        check=True,
        capture_output=True,
    )
    port = free_port()
    # Durability is not what this server is for: no fsync, no Unix socket, loopback only.
    settings = {
        "listen_addresses": "127.0.0.1",
        "port": port,
        "unix_socket_directories": "",
        "max_connections": 300,
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
    }
    options = [arg for name, value in settings.items() for arg in ("-c", f"{name}={value}")]
    start(
        "postgres",
        [*as_owner, str(bin_dir / "postgres"), "-D", str(data), *options],
        os.environ,
        logs,
        stack,
    )
    poll(
        "PostgreSQL to accept connections",
        lambda: _accepts_connections(bin_dir, port),
        START_TIMEOUT,
    )
    address = ["-h", "127.0.0.1", "-p", str(port), "-U", "airflow"]
    subprocess.run([bin_dir / "createdb", *address, DATABASE], check=True, capture_output=True)
    return f"postgresql+psycopg://airflow@127.0.0.1:{port}/{DATABASE}"
