"""Signed, expiring bearer tokens and their validation cache.

A token is ``base64url(payload || HMAC-SHA256(key, payload))`` without padding, where the
payload is a compact JSON array ``[version, user_id, project_id, methods, issued, expires,
audit_ids]``. Nothing is stored per token: any server process that shares the database (and so
the signing key in ``identity_signing_keys``) can check any token, and issuing one costs no write.

A token revoked before its expiry (``revoke``) has its audit id on the revocation list
(domain/identity/revocations.py), read at each validation.

What a token does *not* carry is the roles: they are read from the database when a token is
validated, so disabling a user, deleting a project or revoking a role takes effect at once for
new validations. Validation runs on every API request, so results are kept in memory for a short
freshness window (30 s by default): a repeated token costs a dict lookup, and a revoked role is
honoured by every process within that window.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson
from sqlalchemy.orm import Session, sessionmaker

from neutrino.db.engine import run_in_transaction
from neutrino.domain.identity import revocations
from neutrino.domain.identity.service import roles_on_project, unauthorized
from neutrino.domain.models.identity import Project, SigningKey, User

FORMAT_VERSION = 1
KEY_ID = "token-hmac-sha256"  # one well-known row: concurrent first starts cannot create two keys
MAC_BYTES = 32
MAX_TOKEN_CHARS = 2048
_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]+")


@dataclass(frozen=True)
class TokenInfo:
    """A validated token: who, on which project, with which roles, until when."""

    token: str
    user_id: str
    user_name: str
    user_domain_id: str
    project_id: str | None
    project_name: str | None
    project_domain_id: str | None
    roles: tuple[tuple[str, str], ...]  # (id, name)
    methods: tuple[str, ...]
    issued_at: datetime
    expires_at: datetime
    audit_ids: tuple[str, ...]

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(name for _id, name in self.roles)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.role_names


@dataclass(frozen=True)
class _Claims:
    user_id: str
    project_id: str | None
    methods: tuple[str, ...]
    issued: int
    expires: int
    audit_ids: tuple[str, ...]


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _utc(epoch: int) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class TokenService:
    """Issues and validates tokens; one instance per server process, safe across threads."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        expiration: int = 3600,
        *,
        cache_ttl: float = 30.0,
        cache_size: int = 10_000,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self.expiration = expiration
        self._cache_ttl = cache_ttl
        self._cache_size = cache_size
        self._clock = clock
        self._monotonic = monotonic
        self._key: bytes | None = None
        self._lock = threading.Lock()
        # token -> (info, freshness deadline on the monotonic clock, expiry as epoch seconds)
        self._cache: dict[str, tuple[TokenInfo, float, float]] = {}

    # --- public API -------------------------------------------------------------------------

    def issue(
        self,
        user_id: str,
        project_id: str | None,
        methods: list[str] | tuple[str, ...],
        *,
        expires_at: datetime | None = None,
        parent_audit_id: str | None = None,
    ) -> TokenInfo:
        """Sign a new token for a user (already authenticated) on a project or unscoped.

        ``expires_at`` caps the lifetime and ``parent_audit_id`` chains the audit ids: both
        are for rescoping, where the new token must not outlive the one it came from.
        """
        now = int(self._clock())
        expires = now + self.expiration
        if expires_at is not None:
            expires = min(expires, int(expires_at.timestamp()))
        audit_ids = (_b64encode(secrets.token_bytes(16)),)
        if parent_audit_id:
            audit_ids += (parent_audit_id,)
        claims = _Claims(user_id, project_id, tuple(methods), now, expires, audit_ids)
        payload = orjson.dumps(
            [FORMAT_VERSION, user_id, project_id, list(methods), now, expires, list(audit_ids)]
        )
        token = _b64encode(payload + self._mac(payload))
        info = run_in_transaction(self._sessions, lambda s: self._resolve(s, token, claims))
        if info is None:
            raise unauthorized()
        self._remember(info)
        return info

    def validate(self, token: str) -> TokenInfo | None:
        """The token's current meaning, or None if forged, expired or no longer valid."""
        hit = self._cache.get(token)
        if hit is not None and hit[1] > self._monotonic() and hit[2] > self._clock():
            return hit[0]
        claims = self._verify(token)
        if claims is None:
            return None
        info = run_in_transaction(self._sessions, lambda s: self._resolve(s, token, claims))
        if info is None:
            with self._lock:
                self._cache.pop(token, None)
            return None
        self._remember(info)
        return info

    def revoke(self, info: TokenInfo) -> None:
        """Revoke a validated token: it fails validation from now on (in this process at once,
        in other server processes once their cached validation goes stale)."""
        expires = info.expires_at.replace(tzinfo=None)
        now = _utc(int(self._clock())).replace(tzinfo=None)
        run_in_transaction(self._sessions, lambda s: revocations.revoke(s, info.audit_ids[0], expires, now))
        with self._lock:
            self._cache.pop(info.token, None)

    def clear_cache(self) -> None:
        """Forget every cached validation, e.g. right after a role or user was changed here."""
        with self._lock:
            self._cache.clear()

    # --- signing ----------------------------------------------------------------------------

    def _signing_key(self) -> bytes:
        key = self._key
        if key is None:
            with self._lock:
                if self._key is None:
                    secret = run_in_transaction(self._sessions, _load_or_create_key)
                    self._key = bytes.fromhex(secret)
                key = self._key
        return key

    def _mac(self, payload: bytes) -> bytes:
        return hmac.new(self._signing_key(), payload, hashlib.sha256).digest()

    def _verify(self, token: str) -> _Claims | None:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            return None
        if not _TOKEN_RE.fullmatch(token):
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        except ValueError:
            return None
        if len(raw) <= MAC_BYTES or _b64encode(raw) != token:
            return None  # too short, or a non-canonical spelling (stray low bits in the last char)
        payload, mac = raw[:-MAC_BYTES], raw[-MAC_BYTES:]
        if not hmac.compare_digest(mac, self._mac(payload)):
            return None
        try:
            version, user_id, project_id, methods, issued, expires, audit_ids = orjson.loads(payload)
        except (orjson.JSONDecodeError, ValueError, TypeError):
            return None
        if version != FORMAT_VERSION or expires <= self._clock():
            return None
        return _Claims(user_id, project_id, tuple(methods), issued, expires, tuple(audit_ids))

    # --- resolution and cache ---------------------------------------------------------------

    def _resolve(self, session: Session, token: str, claims: _Claims) -> TokenInfo | None:
        if claims.audit_ids and revocations.is_revoked(session, claims.audit_ids[0]):
            return None
        user = session.get(User, claims.user_id)
        if user is None or not user.enabled:
            return None
        project = None
        roles: tuple[tuple[str, str], ...] = ()
        if claims.project_id is not None:
            project = session.get(Project, claims.project_id)
            if project is None or not project.enabled:
                return None
            found = roles_on_project(session, user_id=user.id, project_id=project.id)
            if not found:
                return None
            roles = tuple((r.id, r.name) for r in found)
        return TokenInfo(
            token=token,
            user_id=user.id,
            user_name=user.name,
            user_domain_id=user.domain_id,
            project_id=project.id if project else None,
            project_name=project.name if project else None,
            project_domain_id=project.domain_id if project else None,
            roles=roles,
            methods=claims.methods,
            issued_at=_utc(claims.issued),
            expires_at=_utc(claims.expires),
            audit_ids=claims.audit_ids,
        )

    def _remember(self, info: TokenInfo) -> None:
        now = self._monotonic()
        entry = (info, now + self._cache_ttl, info.expires_at.timestamp())
        with self._lock:
            if len(self._cache) >= self._cache_size and info.token not in self._cache:
                self._evict(now)
            self._cache[info.token] = entry

    def _evict(self, now: float) -> None:
        """Drop stale entries; if the cache is still full, drop the oldest quarter."""
        wall = self._clock()
        for token in [t for t, (_i, fresh, exp) in self._cache.items() if fresh <= now or exp <= wall]:
            del self._cache[token]
        excess = len(self._cache) - (self._cache_size * 3) // 4
        if excess > 0:
            for token in list(self._cache)[:excess]:
                del self._cache[token]


def _load_or_create_key(session: Session) -> str:
    row = session.get(SigningKey, KEY_ID)
    if row is None:
        row = SigningKey(id=KEY_ID, secret=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return row.secret
