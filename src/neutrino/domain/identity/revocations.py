"""Revoked tokens: the list ``DELETE /v3/auth/tokens`` writes and token validation reads.

Why a list: tokens are signatures with nothing stored per token (domain/identity/tokens.py),
so revoking one means remembering its audit id until it would have expired anyway, as
Keystone's revocation events do. Entries past that expiry are dropped on the next revocation,
so the list stays as small as the number of live revoked tokens.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from neutrino.domain.models.identity import RevokedToken

_REVOKED = select(RevokedToken.audit_id)


def revoke(session: Session, audit_id: str, expires_at: datetime, now: datetime) -> None:
    """Record ``audit_id`` as revoked until ``expires_at`` (naive UTC); idempotent."""
    session.execute(delete(RevokedToken).where(RevokedToken.expires_at < now))
    if session.get(RevokedToken, audit_id) is None:
        session.add(RevokedToken(audit_id=audit_id, expires_at=expires_at))
        session.flush()  # a concurrent revocation of the same token: the retry finds its row


def is_revoked(session: Session, audit_id: str) -> bool:
    return session.scalar(_REVOKED.where(RevokedToken.audit_id == audit_id)) is not None
