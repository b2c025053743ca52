"""The access log line is uvicorn's own, character for character."""

from __future__ import annotations

import logging

import pytest
from uvicorn.logging import AccessFormatter

from neutrino.api.access_log import UVICORN_FORMAT, DirectAccessFormatter, logging_config

pytestmark = pytest.mark.unit


def _record(level: int, status: int, path: str = "/v2.0/networks/abc?fields=id") -> logging.LogRecord:
    args = ("127.0.0.1:5555", "GET", path, "1.1", status)
    return logging.LogRecord("uvicorn.access", level, __file__, 1, '%s - "%s %s HTTP/%s" %d', args, None)


@pytest.mark.parametrize("status", [200, 201, 204, 304, 400, 401, 404, 409, 418, 500, 503, 599])
@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING, logging.ERROR])
def test_same_line_as_uvicorn(status: int, level: int) -> None:
    ours, theirs = DirectAccessFormatter(UVICORN_FORMAT, use_colors=False), AccessFormatter(UVICORN_FORMAT, use_colors=False)
    assert ours.format(_record(level, status)) == theirs.format(_record(level, status))


def test_colours_or_another_format_are_uvicorns() -> None:
    for fmt, colours in ((UVICORN_FORMAT, True), ("%(client_addr)s %(status_code)s", False)):
        ours, theirs = DirectAccessFormatter(fmt, use_colors=colours), AccessFormatter(fmt, use_colors=colours)
        assert ours.format(_record(logging.INFO, 200)) == theirs.format(_record(logging.INFO, 200))


def test_the_servers_logging_config_uses_it() -> None:
    config = logging_config()
    assert config["formatters"]["access"]["()"] == "neutrino.api.access_log.DirectAccessFormatter"
    assert config["formatters"]["access"]["fmt"] == UVICORN_FORMAT
