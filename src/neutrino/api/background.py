"""Work the server does on its own while it runs: the periodic agent status check.

The FastAPI lifespan starts it after the app is set up and stops it (waking and joining the
thread) on shutdown, so every server process, including the in-process test server, runs it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from neutrino.api.state import AppState
from neutrino.db.leader import Leadership
from neutrino.domain.scheduling.periodic import AgentStatusCheck


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    state: AppState = app.state.neutrino
    leadership = Leadership(state.engine)  # with several workers, one runs the check
    check = AgentStatusCheck(state.sessions, state.domain, gate=leadership.held)
    check.start()
    if state.bus is not None:
        state.bus.start()  # notifies agents after commits
    try:
        yield
    finally:
        if state.bus is not None:
            state.bus.stop()
        check.stop()
        leadership.release()
