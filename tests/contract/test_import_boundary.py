"""The emulator imports nothing of the client's action rules, outcomes or validation.

A rule the emulator borrowed from the client would agree with the client
whatever Chargebee does; the contract in pyproject.toml (``[tool.importlinter]``)
keeps the second opinion independent, and this test runs it with the suite.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_emulator_imports_none_of_the_clients_rules() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    assert lint_imports.exists(), "import-linter is missing: pip install -e '.[dev]'"
    result = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "The emulator judges by its own rules, not the client's KEPT" in result.stdout
