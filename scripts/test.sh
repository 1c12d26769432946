#!/usr/bin/env bash
# The whole test suite: ruff, mypy --strict, pytest on the newest Airflow 3.x, then the
# Airflow-facing fast tests again on the oldest supported Airflow, then the package as
# users install it. Extra arguments go to pytest.
#
# The long proofs (pytest marker `long`: every exactly-once case at 2,000 invoices) are
# left out, as pyproject's addopts says; run them with `.venv/bin/python -m pytest -m long`.
# At the end it prints the time of each phase, and fails if the tests changed the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS
phases=()
phase() {  # phase NAME COMMAND...: run the command and note how long it took
  local name=$1 since=$SECONDS
  shift
  "$@"
  phases+=("$(printf '%-44s %5ds' "$name" $((SECONDS - since)))")
}
report() {
  echo "Time of each phase:"
  printf '  %s\n' "${phases[@]}"
  printf '  %-44s %5ds\n' "total" $((SECONDS - started))
}
trap 'report; rm -f "${floor_log:-}"' EXIT

checkout_state() {  # what a test must not change: tracked files, and files git would add
  git status --porcelain=v1 && git diff HEAD --binary | sha256sum
}
in_git=false
git rev-parse --is-inside-work-tree >/dev/null 2>&1 && in_git=true
$in_git && before=$(checkout_state)

phase "bootstrap (.venv)" scripts/bootstrap.sh
# Debian packages some tests need: chromium for the browser test of the connection
# form, redis-server for the shared rate budget (rate_limit_store), and PostgreSQL
# with Redis for the distributed Airflow of the CeleryExecutor test. As root on
# Debian the missing ones are installed here; elsewhere those tests are skipped (not
# in CI). The tests start servers of their own, on free ports.
install_missing() {
  local missing=()
  [ -x /usr/bin/chromium ] || missing+=(chromium)
  command -v redis-server >/dev/null || missing+=(redis-server)
  compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "Installing Debian's ${missing[*]} for the tests that need them ..."
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >/dev/null
  fi
}
phase "Debian packages" install_missing
# The oldest Airflow's .venv-floor is built while ruff and mypy run (two cores, one job
# each), and waited for before any test starts, so no test shares the machine with it.
floor_log=$(mktemp)
scripts/bootstrap.sh floor >"$floor_log" 2>&1 &
floor_pid=$!
lint() { .venv/bin/ruff check . && .venv/bin/ruff format --check .; }
phase "ruff" lint
phase "mypy --strict" .venv/bin/mypy --strict airflow_provider_cb
# The import contracts (pyproject [tool.importlinter]), e.g. the emulator imports none of the client's rules.
phase "import contracts" .venv/bin/lint-imports --no-cache
floor_ready() { wait "$floor_pid" || { cat "$floor_log" >&2; return 1; }; cat "$floor_log"; }
phase "bootstrap (.venv-floor), rest of" floor_ready
# Three workers (pytest-xdist): most tests wait on a server, so three keep two cores busy.
# Tests sharing a server run on one worker (tests/conftest.py names their groups).
parallel=(-n 3 --dist loadgroup)  # a later -n (e.g. -n 0 to debug) wins
phase "pytest, newest Airflow" .venv/bin/python -m pytest "${parallel[@]}" "$@"
echo "Again on Airflow $(.venv-floor/bin/python -c 'import airflow; print(airflow.__version__)'), the oldest supported:"
# Only what touches Airflow: the Airflow-free tests could not tell the two versions apart.
phase "pytest, oldest Airflow" .venv-floor/bin/python -m pytest "${parallel[@]}" \
  -m "not slow and not long and not airflow_free" tests/unit tests/integration tests/dags "$@"
echo "The package as users install it:"
phase "release check" scripts/release-check.sh

if $in_git; then
  after=$(checkout_state)
  if [ "$before" != "$after" ]; then
    echo "The tests changed the checkout; a test must leave it as it was:" >&2
    git status --short >&2
    exit 1
  fi
fi
