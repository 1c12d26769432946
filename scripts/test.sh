#!/usr/bin/env bash
# The whole test suite: ruff, mypy --strict, pytest on the newest Airflow 3.x, then
# the fast tests again on the oldest supported Airflow. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
# The browser test of the connection form (tests/e2e) needs Debian's chromium; as
# root on Debian it is installed here, elsewhere that one test is skipped (not in CI).
# The shared rate budget's tests (rate_limit_store) need Debian's redis-server, the
# same way.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null || missing+=(redis-server)
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's ${missing[*]} for the tests that need them ..."
  { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy --strict airflow_provider_cb
.venv/bin/python -m pytest "$@"
scripts/bootstrap.sh floor
echo "Again on Airflow $(.venv-floor/bin/python -c 'import airflow; print(airflow.__version__)'), the oldest supported:"
.venv-floor/bin/python -m pytest -m "not slow" tests/unit tests/integration tests/dags "$@"
echo "The package as users install it:"
scripts/release-check.sh
