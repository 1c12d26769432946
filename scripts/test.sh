#!/usr/bin/env bash
# The whole test suite: ruff, mypy --strict, pytest on the newest Airflow 3.x, then
# the fast tests again on the oldest supported Airflow. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# Debian packages some tests need: chromium for the browser test of the connection
# form, redis-server for the shared rate budget (rate_limit_store), and PostgreSQL
# with Redis for the distributed Airflow of the CeleryExecutor test. As root on
# Debian the missing ones are installed here; elsewhere those tests are skipped (not
# in CI). The tests start servers of their own, on free ports.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's ${missing[*]} for the tests that need them ..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict airflow_provider_cb
.venv/bin/lint-imports --no-cache  # the emulator imports none of the client's rules
.venv/bin/python -m pytest "$@"
scripts/bootstrap.sh floor
echo "Again on Airflow $(.venv-floor/bin/python -c 'import airflow; print(airflow.__version__)'), the oldest supported:"
.venv-floor/bin/python -m pytest -m "not slow" tests/unit tests/integration tests/dags "$@"
echo "The package as users install it:"
scripts/release-check.sh
