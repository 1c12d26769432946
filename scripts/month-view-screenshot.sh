#!/usr/bin/env bash
# Refresh docs/images/month-view.png: the month-end page's browser test on a live
# Airflow, run on purpose with its screenshot sent to docs/images (on its own the
# test writes it to a temporary folder). Needs /usr/bin/chromium.
#   scripts/month-view-screenshot.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
mkdir -p docs/images
CHARGEBEE_SCREENSHOTS="$PWD/docs/images" .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/e2e/test_month_page.py
echo "Refreshed docs/images/month-view.png"
