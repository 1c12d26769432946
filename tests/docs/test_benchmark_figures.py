"""Every benchmark bench/run.sh knows has its figures recorded in docs/benchmarks.md."""

from __future__ import annotations

import re

import pytest

from tests.helpers import REPO

RUN_SH = (REPO / "bench" / "run.sh").read_text()
DOC = (REPO / "docs" / "benchmarks.md").read_text()
NAMES = re.search(r"for each in ([a-z ]+); do", RUN_SH)


def test_run_sh_lists_its_benchmarks() -> None:
    assert NAMES is not None
    assert "budget" in NAMES.group(1).split()


@pytest.mark.parametrize("name", NAMES.group(1).split() if NAMES else [])
def test_each_benchmark_has_a_recorded_table(name: str) -> None:
    section = DOC.partition(f"<!-- bench:{name} -->")[2].partition(f"<!-- /bench:{name} -->")[0]
    assert re.search(r"^\d+ runs? on \d{4}-\d{2}-\d{2}: ", section, re.MULTILINE), name
    assert "| figure | median | min | max | target | met |" in section
    assert "**no**" not in section, f"{name}: a recorded figure misses its target"
