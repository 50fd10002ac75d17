#!/bin/sh
# What the Lambda Web Adapter runs (handler "run.sh", AWS_LAMBDA_EXEC_WRAPPER=/opt/bootstrap):
# the SSE app under uvicorn on the port LWA forwards to. The local stack runs this same script.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
# In the Lambda zip this script sits at the root beside the sse package; in the source tree,
# inside it.
if [ -d "$here/sse" ]; then root=$here; else root=$(dirname "$here"); fi
export PYTHONPATH="$root${PYTHONPATH:+:$PYTHONPATH}"
exec "${PYTHON:-python3}" -m uvicorn --factory sse.app:create_app \
    --host "${SSE_HOST:-127.0.0.1}" \
    --port "${AWS_LWA_PORT:-${PORT:-8080}}" \
    --no-access-log \
    --timeout-graceful-shutdown 2
