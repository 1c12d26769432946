"""The emulator's command line refuses values it cannot serve with an argparse error, not a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from airflow_provider_cb.testing.__main__ import main


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--port", "70000"], "--port"),
        (["--port", "-1"], "--port"),
        (["--port", "http"], "--port"),
        (["--requests-per-minute", "0"], "--requests-per-minute"),
        (["--requests-per-minute", "-5"], "--requests-per-minute"),
        (["--requests-per-minute", "1e9"], "--requests-per-minute"),
        (["--rate-limit-window", "leaky_bucket"], "--rate-limit-window"),
        (["--seed", "pending=99999999999999"], "--seed"),
        (["--seed", "pending"], "--seed"),
        (["--api-key", ""], "--api-key"),
        (["--api-key", "key with spaces"], "--api-key"),
        (["--api-key", "user:password"], "--api-key"),
    ],
)
def test_bad_arguments_get_a_usage_error_naming_the_option(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)

    assert caught.value.code == 2
    error = capsys.readouterr().err
    assert f"argument {named}" in error
    assert "Traceback" not in error


def test_a_bad_port_exits_cleanly_from_the_shell() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_cb.testing", "--port", "70000"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "argument --port" in result.stderr
