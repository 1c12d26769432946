#!/usr/bin/env bash
# The whole test suite, with the quality gates: ruff, mypy --strict, pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict airflow_provider_cb
.venv/bin/python -m pytest "$@"
