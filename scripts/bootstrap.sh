#!/usr/bin/env bash
# Make (or refresh) a virtual environment; print nothing when it is current.
#   scripts/bootstrap.sh              .venv with the newest Airflow 3.x
#   scripts/bootstrap.sh floor        .venv-floor with the oldest Airflow the package supports
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
AIRFLOW_FLOOR=3.3.0
if [ "${1:-}" = floor ]; then
  venv=.venv-floor
  pins=("apache-airflow==$AIRFLOW_FLOOR")
else
  venv=.venv
  pins=()
fi
stamp=$venv/.installed-$(cat pyproject.toml "$0" | sha256sum | cut -c1-16)
if [ ! -f "$stamp" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Python 3.11 or newer is required (set PYTHON=...)" >&2; exit 1; }
  [ -x "$venv/bin/python" ] || "$PYTHON" -m venv "$venv"
  echo "Installing airflow-provider-chargebee and its test tools into $venv (about a minute) ..."
  log=$venv/install.log
  if ! { "$venv/bin/python" -m pip install --upgrade pip \
         && "$venv/bin/python" -m pip install -e ".[dev]" "${pins[@]}"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "installation failed; full log in $log" >&2
    exit 1
  fi
  rm -f "$venv"/.installed-*
  touch "$stamp"
fi
