"""The topology page in a real browser: headless Chromium (Debian's ``chromium``) takes a
screenshot of a saved page; the PNG is checked to be a real drawing, not an empty page."""

from __future__ import annotations

import html
import re
import shutil
import struct
import subprocess
from pathlib import Path

SCREENSHOT_TIMEOUT = 90.0
WINDOW = (1400, 2200)


def screenshot(page: Path, png: Path, profile: Path) -> None:
    """Chromium loads ``page`` (a file) and writes ``png``; started and, if it hangs, killed by pid.
    No sandbox (a container has none to give it) and nothing that would reach the network."""
    chromium = shutil.which("chromium")
    assert chromium, "chromium is not installed (./dev installs it: APT_PACKAGES)"
    argv = [chromium, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--disable-default-apps", f"--user-data-dir={profile}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
            f"--screenshot={png}", page.resolve().as_uri()]  # fmt: skip
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        _, err = proc.communicate(timeout=SCREENSHOT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()  # by its pid: only the browser this test started
        proc.communicate()
        raise AssertionError(f"chromium did not take the screenshot within {SCREENSHOT_TIMEOUT:g} s") from None
    assert png.exists(), f"chromium wrote no screenshot (exit {proc.returncode}): {err[-2000:]}"


def png_size(png: Path) -> tuple[int, int]:
    """(width, height) from the PNG's header, after checking its signature."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", "not a PNG"
    return struct.unpack(">II", data[16:24])


def svg_node_ids(page: str) -> tuple[set[str], set[str]]:
    """(every node's id, the highlighted ones) in the page's SVGs, Graphviz's escapes undone."""
    nodes = {html.unescape(m) for m in re.findall(r'<g id="([^"]+)" class="node[^"]*"', page)}
    lit = {html.unescape(m) for m in re.findall(r'<g id="([^"]+)" class="node hl"', page)}
    return nodes, lit
