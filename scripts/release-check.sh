#!/usr/bin/env bash
# The package as users get it: build the wheel and sdist, check them (twine and the
# checkout's file list), install the wheel (not editable) into a fresh venv with Airflow,
# and run the example month-end DAG and `airflow providers list` from that install.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "Building the wheel and sdist ..."
.venv/bin/python -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 \
  || { tail -n 30 "$work/build.log" >&2; exit 1; }
.venv/bin/python -m twine check --strict "$work"/dist/*
.venv/bin/python scripts/check_dist.py "$work/dist"

echo "Installing the wheel into a fresh venv (about a minute) ..."
"${PYTHON:-python3}" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet --upgrade pip >"$work/install.log" 2>&1
"$work/venv/bin/python" -m pip install "$work"/dist/*.whl >>"$work/install.log" 2>&1 \
  || { tail -n 30 "$work/install.log" >&2; exit 1; }
(cd "$work" && PYTHONSAFEPATH=1 "$work/venv/bin/python" -c '
import airflow_provider_cb, sys
assert "site-packages" in airflow_provider_cb.__file__, airflow_provider_cb.__file__
print(f"installed airflow_provider_cb {airflow_provider_cb.__version__} at {airflow_provider_cb.__file__}")
')
version=$("$work/venv/bin/python" -c 'import airflow_provider_cb; print(airflow_provider_cb.__version__)')
(cd "$work" && AIRFLOW_HOME="$work/airflow" "$work/venv/bin/airflow" providers list 2>/dev/null) \
  | grep -E "^airflow-provider-chargebee +\| .*\| $version *$" \
  || { echo "airflow providers list does not show airflow-provider-chargebee $version" >&2; exit 1; }
VENV="$work/venv" scripts/month-end.sh 200
