#!/usr/bin/env bash
# Run a benchmark several times and print the medians of its figures.
#   bench/run.sh NAME [RUNS] [--record]
# NAME: throughput, ratelimit, budget, mapping, memory, import, ledger, resume or all. RUNS defaults
# to 5 (3 for ratelimit, mapping and memory, 1 for budget and resume: 9 and 4 minutes a run).
# --record writes the table into docs/benchmarks.md.
# Each run's JSON line goes to bench/results/NAME.jsonl and its output to NAME-N.log.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() { sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[ $# -ge 1 ] || usage
name=$1; shift
runs=""; record=""
for arg in "$@"; do
  case $arg in
    --record) record=--record ;;
    ''|*[!0-9]*) usage ;;
    *) runs=$arg ;;
  esac
done
case $name in
  all)
    for each in import throughput memory ratelimit budget mapping ledger resume; do
      "$0" "$each" ${runs:+"$runs"} ${record:+"$record"}
    done
    exit 0 ;;
  throughput|import) default_runs=5 ;;
  ratelimit|mapping|memory|ledger) default_runs=3 ;;
  budget|resume) default_runs=1 ;;
  *) usage ;;
esac
runs=${runs:-$default_runs}

scripts/bootstrap.sh
if ! .venv/bin/python -c "import chargebee, psutil, airflow.providers.http" 2>/dev/null; then
  echo "Installing the bench extra into .venv ..."
  .venv/bin/python -m pip install --quiet -e ".[bench]"
fi

mkdir -p bench/results
results=bench/results/$name.jsonl
: >"$results"
echo "== $name: $runs runs; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$runs"); do
  log=bench/results/$name-$i.log
  started=$(date +%s)
  if ! .venv/bin/python -m "bench.$name" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    echo "run $i of $name failed; full output in $log" >&2
    exit 1
  fi
  grep '^{"bench"' "$log" | tail -n 1 >>"$results"
  echo "run $i/$runs done in $(($(date +%s) - started))s"
done
.venv/bin/python -m bench.report "$results" $record
