"""Reads a subunit v2 stream on stdin, prints one JSON object per test: id, status, reason.

Runs with tempest's own virtualenv (.tempest-venv has python-subunit and testtools); the
neutrino side (tests/tempest/report.py) reads its output, so it needs neither library.
"""

from __future__ import annotations

import json
import sys

import subunit
import testtools


def main() -> None:
    tests: list[dict] = []

    def on_test(test: dict) -> None:
        details = test.get("details") or {}
        reason = ""
        for key in ("reason", "traceback"):
            if key in details:
                reason = details[key].as_text()
                break
        tests.append({"id": test["id"], "status": test["status"], "reason": reason})

    stream = subunit.ByteStreamToStreamResult(sys.stdin.buffer, non_subunit_name="stdout")
    result = testtools.StreamToDict(on_test)
    result.startTestRun()
    try:
        stream.run(result)
    finally:
        result.stopTestRun()
    json.dump(tests, sys.stdout)


if __name__ == "__main__":
    main()
