"""Fixtures for DAG runs: what a ``dag.test()`` run printed, and the sensor's emulator and payer."""

from __future__ import annotations

import pytest

from tests.sensor_support import emulator as emulator
from tests.sensor_support import pay_after_reads as pay_after_reads


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
