"""The emulator's command line: it serves until SIGTERM; bad values get a usage error."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from airflow_provider_cb.testing.__main__ import main
from tests.integration.emulator_calls import act, ids


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
        (["--currencies", "EURO"], "--currencies"),
        (["--currencies", "EUR,"], "--currencies"),
        (["--amounts", "500:100"], "--amounts"),
        (["--amounts", "-5"], "--amounts"),
        (["--amounts", "12.50"], "--amounts"),
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


def test_cli_serves_until_sigterm(tmp_path: Path) -> None:
    ready = tmp_path / "ready" / "url"
    ready.parent.mkdir()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_cb.testing",
            "--seed",
            "pending=3",
            "--seed",
            "payment_due=2",
            "--api-key",
            "cli_key",
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        base_url = ready.read_text().strip()
        assert line == f"chargebee emulator listening on {base_url} (5 invoices; due USD 500.00)\n"
        assert [p.name for p in ready.parent.iterdir()] == ["url"]
        with httpx.Client(base_url=base_url, auth=("cli_key", ""), timeout=10) as client:
            assert ids(client.get("/api/v2/invoices", params={"status[is]": "payment_due"})) == [
                "inv_000004",
                "inv_000005",
            ]
            assert act(client, "close", "inv_000001").status_code == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err
    assert out.strip() == "chargebee emulator stopped; applied actions: close=1"


def test_cli_refuses_a_public_host() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_cb.testing", "--host", "0.0.0.0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_cli_seeds_currencies_in_turn_and_amounts_over_a_range(tmp_path: Path) -> None:
    ready = tmp_path / "url"
    argv = ["--seed", "pending=6", "--currencies", "EUR,jpy", "--amounts", "1000:50000"]
    command = [sys.executable, "-m", "airflow_provider_cb.testing", *argv]
    process = subprocess.Popen(
        [*command, "--ready-file", str(ready)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        with httpx.Client(base_url=ready.read_text().strip(), auth=("test_key", "")) as client:
            answer = client.get("/api/v2/invoices", params={"limit": 10}).json()
    finally:
        process.terminate()
        process.wait(timeout=30)
    invoices = {item["invoice"]["id"]: item["invoice"] for item in answer["list"]}
    assert [invoices[f"inv_00000{n}"]["currency_code"] for n in range(1, 7)] == ["EUR", "JPY"] * 3
    amounts = [invoice["amount_due"] for invoice in invoices.values()]
    assert all(1_000 <= amount <= 50_000 for amount in amounts)
    assert len(set(amounts)) > 1, "spread over the range"
    eur = sum(i["amount_due"] for i in invoices.values() if i["currency_code"] == "EUR")
    jpy = sum(i["amount_due"] for i in invoices.values() if i["currency_code"] == "JPY")
    assert f"(6 invoices; due EUR {eur // 100:,}.{eur % 100:02d}, JPY {jpy:,})" in line
