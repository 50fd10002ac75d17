"""``make e2e``: boot the local stack on free ports and run the deployment suite against it.

python -m tests.e2e.run_local [pytest args...]
"""

from __future__ import annotations

import os
import subprocess
import sys

from tests.utils.processes import running_stack

# Small enough that the connection-limit test runs here (deployed targets skip it).
LOCAL_ENV = {"SSE_MAX_CONNECTIONS": "5"}


def main(argv: list[str]) -> int:
    print("==> Starting the local stack for the E2E suite", flush=True)
    with running_stack(demo=False, env=LOCAL_ENV) as stack:
        env = {
            **os.environ,
            "DASHBOARD_URL": f"{stack.dashboard_url}/",  # as Terraform outputs it
            "SSE_LAMBDA_URL": f"{stack.sse_url}/",
            "INGEST_API_KEY": stack.api_key,
            "E2E_WRITES": "1",  # a throwaway stack: every test may write
        }
        print(
            f"==> DASHBOARD_URL={env['DASHBOARD_URL']} SSE_LAMBDA_URL={env['SSE_LAMBDA_URL']}",
            flush=True,
        )
        command = [sys.executable, "-m", "pytest", "tests/e2e", "-p", "no:cacheprovider", *argv]
        return subprocess.call(command, env=env)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
