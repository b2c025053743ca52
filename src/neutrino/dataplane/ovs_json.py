"""A JSON stream parser for the ``ovs`` library's JSON-RPC connections, on the standard library's
C decoder.

The ``ovs`` wheel from PyPI ships without its C JSON parser (``ovs._json`` needs libopenvswitch
at build time), and its pure-Python parser lexes one character per call: loading a host's
database with a thousand ports took 1.3-1.6 s on a loaded two-core machine, most of an agent's
first pass after a restart (docs/dataplane.md, "OVSDB through a persistent IDL connection").
This parser has the interface the library's JSON-RPC connection uses (``feed`` returns the
characters it consumed, ``is_done``, ``finish`` returns the value or an error string): it finds
where the first top-level value ends by scanning only brackets and strings, then decodes that
text in one ``json.loads``.

``install`` puts it in place of ``ovs.json.Parser`` when the library has no C parser; the ovs
library is used by the IDL adapter alone, so the process-wide switch changes nothing else.
"""

from __future__ import annotations

import json
import re
from typing import Any

_BRACKET_OR_QUOTE = re.compile(r'[{}\[\]"]')
_REST_OF_STRING = re.compile(r'(?:[^"\\]|\\.)*"', re.S)


class StreamParser:
    def __init__(self, check_trailer: bool = False) -> None:
        self._buffer = ""
        self._scan = 0
        self._depth = 0
        self._done = False
        self._value: Any = None

    def feed(self, text: str) -> int:
        """Take input until the first top-level value is complete; return how much was taken."""
        if self._done:
            return 0
        before = len(self._buffer)
        buffer = self._buffer = self._buffer + text
        i = self._scan
        while True:
            found = _BRACKET_OR_QUOTE.search(buffer, i)
            if found is None:
                self._scan = len(buffer)
                return len(text)
            i = found.end()
            char = found.group()
            if char == '"':
                rest = _REST_OF_STRING.match(buffer, i)
                if rest is None:  # the string goes on in the next chunk: scan it again from its quote
                    self._scan = found.start()
                    return len(text)
                i = rest.end()
            elif char in "{[":
                self._depth += 1
            else:
                self._depth -= 1
                if self._depth <= 0:
                    self._finish_value(buffer[:i])
                    return i - before

    def _finish_value(self, text: str) -> None:
        try:
            self._value = json.loads(text)
        except ValueError as exc:
            self._value = f"syntax error: {exc}"
        self._done = True
        self._buffer = ""

    def is_done(self) -> bool:
        return self._done

    def finish(self) -> Any:
        """The value, or (as the ovs library's parser) a string describing the error."""
        if not self._done:
            if self._buffer.strip():
                try:
                    return json.loads(self._buffer)
                except ValueError:
                    return "unexpected end of input"
            return "empty input stream"
        return self._value


def install() -> None:
    """Use StreamParser in the ovs library unless it has its own C parser (idempotent)."""
    import ovs.json

    if ovs.json.PARSER == ovs.json.PARSER_PY:
        ovs.json.Parser = StreamParser  # type: ignore[misc,assignment]
