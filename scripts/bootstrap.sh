#!/usr/bin/env bash
# Make (or refresh) the project's virtual environment in .venv; print nothing when it is current.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Python 3.11 or newer is required (set PYTHON=...)" >&2; exit 1; }
  [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
  echo "Installing airflow-provider-chargebee and its test tools into .venv ..."
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -m pip install --quiet -e ".[test]" 2>&1 | grep -v '^WARNING: Location' || true
  .venv/bin/python -c "import airflow_provider_cb, airflow.sdk, pytest" \
    || { echo "installation failed" >&2; exit 1; }
  rm -f .venv/.installed-*
  touch "$stamp"
fi
