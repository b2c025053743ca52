"""The run's summary: counts, skip reasons grouped, failures against the known-failures list.

Pure: test records in (id, status, reason), text and a verdict out (unit-tested in
tests/unit/test_tempest_harness.py). The list (tests/tempest/known_failures.txt) may only
shrink: a failure not in it fails the run, and an entry that now passes is pointed out so it
is removed.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

KNOWN_FAILURES = Path(__file__).with_name("known_failures.txt")


def bare_id(test_id: str) -> str:
    """A test's id without its ``[id-...,smoke]`` attributes."""
    return test_id.split("[", 1)[0]


def read_known(text: str) -> dict[str, str]:
    """``test.id  # reason`` lines (blank lines and whole-line comments ignored) -> {id: reason}."""
    known: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        test_id, _, reason = line.partition("#")
        known[bare_id(test_id.strip())] = reason.strip()
    return known


# tempest and the plugin word a missing extension two ways ("qos extension not enabled." and
# "Skipped because network extension: qos is not enabled"): one key for both
_MISSING_EXTENSION = re.compile(
    r"^(?:Skipped because network extension: (?P<a>\S+) is not enabled|(?P<b>\S+) extension not enabled)\.?$", re.IGNORECASE
)


def skip_reason_key(reason: str) -> str:
    """One line per kind of skip: a missing extension by its alias; ids blanked so alike group."""
    first = (reason.strip().splitlines() or [""])[0].strip()
    missing = _MISSING_EXTENSION.match(first)
    if missing:
        return f"extension {(missing['a'] or missing['b']).lower()} not enabled"
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27,}", "<id>", first)[:160]


@dataclass
class Summary:
    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # id -> traceback
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> count
    new_failures: list[str] = field(default_factory=list)
    fixed: list[str] = field(default_factory=list)  # known failures that passed

    @property
    def ok(self) -> bool:
        return not self.new_failures


def summarize(tests: list[dict[str, str]], known: dict[str, str]) -> Summary:
    out = Summary()
    for test in tests:
        status, test_id = test["status"], test["id"]
        if status in ("success", "xfail"):
            out.passed.append(test_id)
        elif status == "skip":
            out.skipped[skip_reason_key(test.get("reason", ""))] += 1
        elif status in ("fail", "uxsuccess"):
            out.failed[test_id] = test.get("reason", "")
    out.new_failures = sorted(t for t in out.failed if bare_id(t) not in known)
    passed = {bare_id(t) for t in out.passed}
    out.fixed = sorted(t for t in known if t in passed)
    return out


def _last_line(traceback: str) -> str:
    lines = [line for line in traceback.strip().splitlines() if line.strip()]
    return lines[-1].strip()[:200] if lines else ""


def render(summary: Summary, known: dict[str, str]) -> str:
    ran = len(summary.passed) + len(summary.failed)
    rate = f" ({100 * len(summary.passed) / ran:.1f}% of those that ran)" if ran else ""
    lines = [f"passed {len(summary.passed)}, failed {len(summary.failed)}, skipped {sum(summary.skipped.values())}{rate}"]
    if summary.skipped:
        lines.append("\nskip reasons:")
        lines += [f"  {count:4d}  {reason}" for reason, count in summary.skipped.most_common()]
    if summary.failed:
        lines.append("\nfailures:")
        for test_id in sorted(summary.failed):
            mark = f"known: {known[bare_id(test_id)]}" if bare_id(test_id) in known else "NEW"
            lines.append(f"  {bare_id(test_id)}  [{mark}]\n      {_last_line(summary.failed[test_id])}")
    if summary.fixed:
        lines.append("\nknown failures that now pass (remove them from tests/tempest/known_failures.txt):")
        lines += [f"  {t}" for t in summary.fixed]
    if summary.new_failures:
        lines.append(f"\n{len(summary.new_failures)} failure(s) not in tests/tempest/known_failures.txt")
    return "\n".join(lines)
