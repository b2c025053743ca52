"""The README's shell blocks, as ``tests/lab/test_readme.py`` runs them.

A fenced block whose info string starts with ``sh`` is run, in order, in one shell; ``sh norun``
marks one that is deliberately not (the test suite itself, benchmarks). Other languages
(``text``, ``toml``) are never run. ``expect="TEXT"`` attributes in the info string (any number)
name what the block's output must contain: GitHub shows only the language, so they cost the
reader nothing.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(?P<lang>[\w-]*)(?P<attrs>[^\n]*)\n(?P<body>.*?)^```[ \t]*$", re.M | re.S)


@dataclass
class Block:
    line: int
    """Line of the opening fence in the README (1-based)."""
    lang: str
    text: str
    norun: bool = False
    expects: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return self.lang == "sh" and not self.norun


def blocks(text: str) -> list[Block]:
    out = []
    for match in FENCE.finditer(text):
        attrs = shlex.split(match["attrs"])
        block = Block(line=text.count("\n", 0, match.start()) + 1, lang=match["lang"], text=match["body"])
        for attr in attrs:
            key, sep, value = attr.partition("=")
            if key == "norun" and not sep:
                block.norun = True
            elif key == "expect" and sep:
                block.expects.append(value)
            else:
                raise ValueError(f"README line {block.line}: unknown fence attribute {attr!r}")
        out.append(block)
    return out


def runnable_blocks(path: Path = README) -> list[Block]:
    return [b for b in blocks(path.read_text()) if b.runnable]


def script(run: list[Block], marker: str = "@@block") -> str:
    """One bash script: each block after a marker line naming it, tracing every command."""
    parts = ["exec 2>&1", "set -e -o pipefail"]
    for number, block in enumerate(run, 1):
        parts.append(f"set +x; echo '{marker} {number} (README.md line {block.line})'; set -x")
        parts.append(block.text.rstrip("\n"))
    parts.append(f"set +x; echo '{marker} end'")
    return "\n".join(parts) + "\n"


def split_output(output: str, marker: str = "@@block") -> dict[str, str]:
    """{"1": output of block 1, ..., "end": ...}: what each block printed."""
    found: dict[str, str] = {}
    current = "before"
    for line in output.splitlines(keepends=True):
        if line.startswith(marker + " "):
            current = line[len(marker) + 1 :].split()[0]
            found[current] = ""
            continue
        if line.strip() == "+ set +x":
            continue
        found[current] = found.get(current, "") + line
    return found
