"""The server's access log line (logger ``uvicorn.access``), written without uvicorn's detour.

Why: uvicorn's ``AccessFormatter`` copies each record twice, looks the status phrase up through
``http.HTTPStatus`` and formats the message it then discards: some 20 microseconds a request,
about a twentieth of a network GET. Without colours (the log is a file or a pipe, not a
terminal) this formatter writes the same line directly, from the same arguments; with
colours, or another format than uvicorn's default, it is uvicorn's formatter unchanged.
"""

from __future__ import annotations

import copy
import http
import logging
from typing import Any

from uvicorn.config import LOGGING_CONFIG
from uvicorn.logging import AccessFormatter

UVICORN_FORMAT = '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s'
PHRASES = {s.value: f"{s.value} {s.phrase}" for s in http.HTTPStatus}


class DirectAccessFormatter(AccessFormatter):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._direct = not self.use_colors and self._fmt == UVICORN_FORMAT

    def format(self, record: logging.LogRecord) -> str:
        if not self._direct or record.exc_info or record.stack_info:
            return super().format(record)
        client, method, path, version, status = record.args  # type: ignore[misc]
        status = int(status)
        prefix = record.levelname + ":" + " " * (8 - len(record.levelname))
        return f'{prefix} {client} - "{method} {path} HTTP/{version}" {PHRASES.get(status) or f"{status} "}'


def logging_config() -> dict[str, Any]:
    """uvicorn's logging configuration with this formatter for the access log."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["formatters"]["access"]["()"] = f"{__name__}.DirectAccessFormatter"
    return config
