"""Sections printed at the end of a test run: the reliability figures, the rehearsal's verdicts.

Tests add lines in whichever process runs them. With pytest-xdist each worker hands
its lines to the controller as it finishes (``workeroutput``), and the controller
prints every section once, as a run without workers does.
"""

from __future__ import annotations

from typing import Any

import pytest

SECTIONS: dict[str, list[str]] = {}
_OUTPUT_KEY = "chargebee_closing_sections"


def add(section: str, *lines: str) -> None:
    SECTIONS.setdefault(section, []).extend(lines)


def hand_over(config: pytest.Config) -> None:
    """In a worker: give the sections to the controller."""
    output: dict[str, Any] | None = getattr(config, "workeroutput", None)
    if output is not None:
        output[_OUTPUT_KEY] = SECTIONS


def take_over(worker_output: dict[str, Any]) -> None:
    """In the controller: keep what a finished worker gave."""
    for section, lines in worker_output.get(_OUTPUT_KEY, {}).items():
        add(section, *lines)


def print_all(terminalreporter: pytest.TerminalReporter) -> None:
    for section, lines in SECTIONS.items():
        terminalreporter.section(section)
        for line in lines:
            terminalreporter.write_line(line)
