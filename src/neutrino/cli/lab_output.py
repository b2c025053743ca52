"""Where the lab commands print: consoles that keep tables readable when piped (200 columns)."""

from __future__ import annotations

import sys

from rich.console import Console

ERR = Console(stderr=True, width=None if sys.stderr.isatty() else 200)
OUT = Console(width=None if sys.stdout.isatty() else 200)
