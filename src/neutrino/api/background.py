"""Work the server does on its own while it runs: the periodic jobs and the agent bus.

The composition root (``neutrino.server``) builds the jobs (``AppState.periodic``, such as the
agent status check); the FastAPI lifespan starts them after the app is set up and stops them
on shutdown, so every server process, including the in-process test server, runs them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from neutrino.api.state import AppState


@asynccontextmanager
async def lifespan(app: Any) -> AsyncIterator[None]:
    state: AppState = app.state.neutrino
    for job in state.periodic:
        job.start()
    if state.bus is not None:
        state.bus.start()  # notifies agents after commits
    try:
        yield
    finally:
        if state.bus is not None:
            state.bus.stop()
        for job in state.periodic:
            job.stop()
