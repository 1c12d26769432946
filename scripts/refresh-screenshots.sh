#!/usr/bin/env bash
# Refresh the screenshots docs/connection.md shows (docs/images/connection-form*.png):
# the browser test of the connection form, with its screenshots written to docs/images
# instead of a temporary folder. Needs Debian's chromium. Review and commit the result.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
CHARGEBEE_SCREENSHOT_DIR="$PWD/docs/images" .venv/bin/python -m pytest -q -p no:cacheprovider \
  tests/e2e/test_connection_form.py "$@"
git status --short docs/images
