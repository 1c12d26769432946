#!/usr/bin/env bash
# The main job: the example month-end DAG, run by `airflow dags test` against the
# bundled Chargebee emulator, with an SQLite Airflow home made for it.
#   scripts/month-end.sh [PENDING_INVOICES]   (default 1200)
# VENV=/path/to/venv runs it with a provider installed there (the release check does,
# with the built wheel) instead of the project's .venv.
# OUTPUT=/path keeps the audit reports, the month ledger and the month report there
# (default: a new folder under /tmp); the script ends by saying where they are.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${VENV:-}" ]; then
  scripts/bootstrap.sh
  VENV=.venv
else
  # Never import the checkout's package instead of the one installed in $VENV.
  export PYTHONSAFEPATH=1
fi
pending=${1:-1200}
work=$(mktemp -d)
output=${OUTPUT:-$(mktemp -d /tmp/chargebee-month-end.XXXXXX)}
mkdir -p "$output"
export AIRFLOW__CHARGEBEE__LEDGER_PATH="$output/ledger"
export AIRFLOW_HOME="$work/airflow"
export AIRFLOW__CORE__DAGS_FOLDER="$PWD/example_dags"
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__LOGGING__LOGGING_LEVEL=WARNING
# A run dated the first of a month closes the month before it (period="previous_month"):
# seed last month's invoices and run the DAG for the first of this month.
run_date=$(date -u +%Y-%m-01)
last_month=$(date -u -d "$run_date -1 month" +%Y-%m)

"$VENV/bin/python" -m airflow_provider_cb.testing --seed "pending=$pending" --seed payment_due=25 \
  --date "${last_month}-15T12:00:00Z" --ready-file "$work/emulator-url" &
emulator=$!
trap 'kill "$emulator" 2>/dev/null; wait "$emulator" 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do [ -s "$work/emulator-url" ] && break; sleep 0.1; done
[ -s "$work/emulator-url" ] || { echo "the emulator did not start" >&2; exit 1; }
# The emulator limits nothing: lift the client-side budget (the DAG's split of a real
# site's limit would take the 1,200 closes about a quarter of an hour).
export AIRFLOW_CONN_CHARGEBEE_DEFAULT="{\"conn_type\": \"chargebee\", \"host\": \"acme\", \"password\": \"test_key\", \"extra\": {\"base_url\": \"$(cat "$work/emulator-url")\", \"lift_rate_budget\": true}}"

"$VENV/bin/airflow" db migrate >/dev/null
"$VENV/bin/airflow" pools set chargebee 4 "Chargebee site: concurrent bulk chunks" >/dev/null
echo "Running chargebee_month_end on $run_date: closing the pending invoices of $last_month ..."
"$VENV/bin/airflow" dags test chargebee_month_end "$run_date" \
  -c "{\"report_dir\": \"$output/reports\"}" 2>&1 \
  | grep -E "month-end close:|month report:|ERROR|Traceback|failed" || true
state=$("$VENV/bin/airflow" dags state chargebee_month_end "$run_date" 2>/dev/null | tail -n 1)
state=${state%%,*}  # "success, {the run's conf}"
echo "DAG run state: ${state:-unknown}"
echo "Audit reports (a CSV and a Markdown summary per chunk): $output/reports/chargebee_month_end/"
echo "Month ledger ([chargebee] ledger_path): $output/ledger/"
echo "Month report of $last_month: $(ls "$output"/ledger/*/"$last_month"/reports/*.md 2>/dev/null || echo none)"
[ "$state" = "success" ]
