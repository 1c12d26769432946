"""The modules marked ``airflow_free`` really are: the oldest-Airflow pass may skip them."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.airflow_free import is_airflow_free
from tests.helpers import REPO

AIRFLOW_FACING = re.compile(
    r"\bairflow\.|import airflow\b|airflow_provider_cb\.(hooks|operators|sensors|triggers|notifications)"
)


def _marked() -> list[str]:
    paths = (path.relative_to(REPO).as_posix() for path in REPO.glob("tests/**/test_*.py"))
    return sorted(path for path in paths if is_airflow_free(path))


def test_the_list_matches_modules() -> None:
    assert len(_marked()) >= 20


def test_no_airflow_free_module_names_an_airflow_facing_package() -> None:
    named = [path for path in _marked() if AIRFLOW_FACING.search((REPO / path).read_text())]
    assert named == []


def test_no_airflow_free_module_loads_airflow() -> None:
    modules = [path.removesuffix(".py").replace("/", ".") for path in _marked()]
    probe = f"import sys\nfor m in {modules!r}: __import__(m)\nprint('airflow' in sys.modules)"
    loaded = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout
    assert loaded.strip() == "False"
