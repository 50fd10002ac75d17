"""Property-based fuzzing of the REST API: Schemathesis generates requests from the OpenAPI
document the dashboard publishes, sends them over real HTTP to a local stack (with the ingest
key and session tokens), and checks every answer: never a server error, and always a status,
content type, headers and body that the document declares.

``make test`` runs it for about a minute with a fixed seed; ``make fuzz`` for FUZZ_SECONDS
(default 600) with a random seed. A failure it finds gets a regression test of its own in
tests/unit (see test_routes_items.py's numbers and test_validation_errors.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.fuzz.runner import REQUIRED_CHECKS, FuzzSettings, run
from tests.utils.processes import running_stack

SETTINGS = FuzzSettings.from_env()

pytestmark = [pytest.mark.fuzz, pytest.mark.timeout(SETTINGS.seconds + 240)]


def test_no_failures_in_generated_traffic(tmp_path: Path) -> None:
    with running_stack() as stack:
        fuzz = run(stack, SETTINGS, tmp_path)
    print(fuzz.summary())

    assert fuzz.failures == [], f"{fuzz.output[-20_000:]}\n(reports in {tmp_path})"
    assert fuzz.exit_code == 0, fuzz.output[-20_000:]
    assert fuzz.generated >= 200, fuzz.summary()
    for check in REQUIRED_CHECKS:
        assert fuzz.checks[check, "success"] > 0, f"{check} never ran"
        assert fuzz.checks[check, "failure"] == 0, check
    for phase in ("coverage", "fuzzing", "stateful"):
        assert fuzz.phase(phase) == "success", (phase, fuzz.report["phases"])
    # The document tells the truth: generated positive data is accepted, auth is understood.
    warnings = fuzz.report["warnings"]
    assert warnings["validation_mismatch"] == [], warnings
    assert warnings["missing_auth"] == [], warnings
    assert warnings["unused_openapi_auth"] == [], warnings
    for operation in ("POST /api/v2/configurations", "PATCH /api/v2/configurations/{config_id}"):
        phases = fuzz.report["valid_rates"][operation].values()
        accepted = sum(rate["accepted"] for rate in phases)
        rejected = sum(rate["rejected"] for rate in phases)
        assert accepted > rejected, (operation, fuzz.report["valid_rates"][operation])
