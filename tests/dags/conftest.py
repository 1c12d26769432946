"""Fixtures for DAG runs: what a ``dag.test()`` run printed."""

from __future__ import annotations

import pytest


class Output:
    """What a ``dag.test()`` run printed: task logs reach pytest's log capture, errors stdout."""

    def __init__(
        self, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
    ) -> None:
        self.capsys, self.caplog = capsys, caplog

    def text(self) -> str:
        return self.capsys.readouterr().out + self.caplog.text


@pytest.fixture
def output(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> Output:
    caplog.set_level("INFO")
    return Output(capsys, caplog)
