#!/usr/bin/env bash
# Creates .venv-tools/ with the infrastructure linters (checkov), apart from the project's .venv:
# checkov pins many libraries (boto3, pydantic, ...) that must not move the app's versions.
#   scripts/install-tools.sh            # idempotent; re-installs when this file changes
#   TOOLS_VENV=/path TOOLS_PYTHON=python3.12 scripts/install-tools.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_VENV=${TOOLS_VENV:-.venv-tools}
TOOLS_PYTHON=${TOOLS_PYTHON:-python3}
CHECKOV_SPEC=${CHECKOV_SPEC:-checkov==3.3.30}
stamp="$TOOLS_VENV/.installed-$(echo "$CHECKOV_SPEC" | tr -c 'A-Za-z0-9.\n' '_')"

if [ -f "$stamp" ] && [ -x "$TOOLS_VENV/bin/checkov" ]; then
    echo "==> $TOOLS_VENV is up to date ($CHECKOV_SPEC)"
    exit 0
fi
echo "==> Creating $TOOLS_VENV with $TOOLS_PYTHON and installing $CHECKOV_SPEC (first run only)"
test -x "$TOOLS_VENV/bin/python" || "$TOOLS_PYTHON" -m venv "$TOOLS_VENV"
"$TOOLS_VENV/bin/python" -m pip install --quiet --upgrade pip
"$TOOLS_VENV/bin/python" -m pip install --quiet "$CHECKOV_SPEC"
rm -f "$TOOLS_VENV"/.installed-*
touch "$stamp"
"$TOOLS_VENV/bin/checkov" --version
