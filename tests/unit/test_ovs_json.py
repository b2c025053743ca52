"""The JSON stream parser the OVSDB IDL adapter gives the ovs library (dataplane/ovs_json.py): it
must split a byte stream into JSON-RPC messages exactly as the library's own parser does."""

from __future__ import annotations

import json

import pytest

from neutrino.dataplane.ovs_json import StreamParser

pytestmark = pytest.mark.unit

MESSAGES = [
    {"id": 1, "method": "update3", "params": [None, "x", {"Port": {"u": {"insert": {"name": 'a"}{[', "tag": ["set", []]}}}}]},
    {"id": None, "result": {"s": "back\\slash\\", "q": "\\\"", "n": [1, 2.5, -3, True, None], "e": {}, "u": "\u00e9\u2603"}},
    [1, [2, [3]]],
]


def split(stream: str, size: int) -> list[object]:
    """Feed ``stream`` in chunks of ``size`` as ovs.jsonrpc.Connection.recv does."""
    out, pending, parser = [], "", None
    for start in range(0, len(stream), size):
        pending += stream[start : start + size]
        while pending:
            parser = parser or StreamParser()
            pending = pending[parser.feed(pending) :]
            if not parser.is_done():
                break
            out.append(parser.finish())
            parser = None
    return out


@pytest.mark.parametrize("size", [1, 2, 3, 7, 64, 4096])
def test_messages_come_out_whole_whatever_the_chunking(size: int) -> None:
    stream = "".join(json.dumps(m) for m in MESSAGES) + json.dumps(MESSAGES[0], indent=1)
    assert split(stream, size) == [*MESSAGES, MESSAGES[0]]


def test_errors_are_strings_as_in_the_ovs_library() -> None:
    bad = StreamParser()
    bad.feed('{"a": tru}')
    assert bad.is_done() and isinstance(bad.finish(), str)
    assert isinstance(StreamParser().finish(), str)
    partial = StreamParser()
    assert partial.feed('{"a": [1') == 8 and not partial.is_done()
    assert isinstance(partial.finish(), str)
