"""Shared pieces of route handlers: run a unit of work off the event loop, parse If-Match."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from neutrino import errors
from neutrino.api.auth import state_of
from neutrino.db.engine import run_in_transaction, run_read
from sqlalchemy.orm import Session

T = TypeVar("T")


async def in_transaction(
    request: Request, work: Callable[[Session], T], *, readonly: bool = False, core_reads: bool = False
) -> T:
    """Run one unit of work in a transaction (retried on lost races).

    With a networked database the work runs in a worker thread so that a slow query never
    stalls other clients; with SQLite it runs inline (see AppState.db_in_threadpool).
    ``core_reads``: the work only needs a Connection (services with CORE_READS), which is
    cheaper than a Session.
    """
    state = state_of(request)
    if readonly and core_reads:
        engine = state.read_sessions.kw["bind"] if state.read_sessions is not None else state.engine
        if state.db_in_threadpool:
            return await run_in_threadpool(run_read, engine, work)  # type: ignore[arg-type]
        if state.held_reads is not None:  # inline, one at a time: on the connection kept for reads
            return state.held_reads.run(work)  # type: ignore[no-any-return,arg-type]
        return run_read(engine, work)  # type: ignore[arg-type]
    factory = state.read_sessions if readonly and state.read_sessions is not None else state.sessions
    if state.db_in_threadpool:
        return await run_in_threadpool(run_in_transaction, factory, work)
    return run_in_transaction(factory, work)


def if_match_revision(request: Request) -> int | None:
    """``If-Match: revision_number=N`` (several comma-separated constraints allowed)."""
    header = request.headers.get("if-match")
    if not header:
        return None
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "revision_number":
            try:
                return int(value)
            except ValueError:
                raise errors.HTTPBadRequest(msg=f"Invalid revision_number constraint '{value}'") from None
    return None


def fields_of(request: Request) -> list[str]:
    """The ``fields=`` of a show or list request (repeated keys and comma lists both count)."""
    if not request.scope.get("query_string"):  # most requests: no query to parse
        return []
    return [f for k, v in request.query_params.multi_items() if k == "fields" for f in v.split(",") if f]
