"""Token signing, tampering, expiry and the validation cache; password hashing."""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from sqlalchemy import event

from neutrino.db.engine import make_engine, make_sessionmaker, run_in_transaction
from neutrino.domain.identity import service
from neutrino.domain.identity.passwords import hash_password, verify_password
from neutrino.domain.identity.service import IdentityError
from neutrino.domain.identity.tokens import TokenService
from neutrino.domain.models import Base

pytestmark = pytest.mark.unit


@dataclass
class Clocks:
    """Wall and monotonic time under the test's control."""

    wall: float = field(default_factory=time.time)
    mono: float = 1000.0

    def advance(self, seconds: float) -> None:
        self.wall += seconds
        self.mono += seconds


@dataclass
class Store:
    engine: object
    sessions: object
    user_id: str
    project_id: str
    roles: dict[str, str]
    queries: list[str]


@pytest.fixture
def store(tmp_path) -> Store:
    engine = make_engine(f"sqlite:///{tmp_path / 'identity.db'}")
    Base.metadata.create_all(engine)
    sessions = make_sessionmaker(engine)
    queries: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *a: queries.append(a[2]))

    def seed(s):
        roles = {n: service.create_role(s, name=n).id for n in ("admin", "member", "reader")}
        project = service.create_project(s, name="p1")
        user = service.create_user(s, name="u1", password="pw")
        for name in ("member", "reader"):
            service.assign_role(s, user_id=user.id, project_id=project.id, role_id=roles[name])
        return user.id, project.id, roles

    user_id, project_id, roles = run_in_transaction(sessions, seed)
    return Store(engine, sessions, user_id, project_id, roles, queries)


@pytest.fixture
def clocks() -> Clocks:
    return Clocks()


@pytest.fixture
def tokens(store: Store, clocks: Clocks) -> TokenService:
    return TokenService(store.sessions, 3600, clock=lambda: clocks.wall, monotonic=lambda: clocks.mono)


def test_issue_and_validate_round_trip(store: Store, tokens: TokenService) -> None:
    issued = tokens.issue(store.user_id, store.project_id, ["password"])
    tokens.clear_cache()
    info = tokens.validate(issued.token)
    assert info == issued
    assert info.user_name == "u1" and info.user_domain_id == "default"
    assert info.project_name == "p1" and info.project_domain_id == "default"
    assert {name for _id, name in info.roles} == {"member", "reader"}
    assert info.role_names == {"member", "reader"} and not info.is_admin
    assert info.methods == ("password",)
    assert info.expires_at - info.issued_at == timedelta(seconds=3600)
    assert info.issued_at.tzinfo is not None and len(info.audit_ids) == 1


def test_token_is_urlsafe_base64_without_padding(store: Store, tokens: TokenService) -> None:
    token = tokens.issue(store.user_id, store.project_id, ["password"]).token
    assert "=" not in token and "+" not in token and "/" not in token
    assert len(token) < 400


def test_unscoped_token_has_no_project_or_roles(store: Store, tokens: TokenService) -> None:
    info = tokens.issue(store.user_id, None, ["password"])
    assert info.project_id is None and info.project_name is None and info.roles == ()
    tokens.clear_cache()
    assert tokens.validate(info.token) == info


def _flip(token: str, index: int) -> str:
    replacement = "A" if token[index] != "A" else "B"
    return token[:index] + replacement + token[index + 1 :]


@pytest.mark.parametrize("index", [0, 5, 40, -20, -1])
def test_tampered_token_is_rejected(store: Store, tokens: TokenService, index: int) -> None:
    token = tokens.issue(store.user_id, store.project_id, ["password"]).token
    assert tokens.validate(_flip(token, index)) is None


def test_forged_payload_with_other_user_is_rejected(store: Store, tokens: TokenService) -> None:
    token = tokens.issue(store.user_id, store.project_id, ["password"]).token
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    forged_raw = raw[:-32].replace(store.user_id.encode(), b"f" * 32) + raw[-32:]
    forged = base64.urlsafe_b64encode(forged_raw).rstrip(b"=").decode()
    assert tokens.validate(forged) is None


def test_non_canonical_spelling_is_rejected(store: Store, tokens: TokenService) -> None:
    """Base64 leaves spare low bits in the last character; only the canonical form is a token."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    checked = 0
    for project_id, methods in [(store.project_id, ["password"]), (None, ["password"]), (None, ["token"])]:
        token = tokens.issue(store.user_id, project_id, methods).token
        if len(token) % 4 == 0:
            continue  # no spare bits in this length
        twin = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
        assert base64.urlsafe_b64decode(twin + "=" * (-len(twin) % 4)) == base64.urlsafe_b64decode(
            token + "=" * (-len(token) % 4)
        )
        assert tokens.validate(twin) is None
        checked += 1
    assert checked


@pytest.mark.parametrize("garbage", ["", "x", "not a token!", "A" * 43, "%%%", "A" * 5000])
def test_garbage_is_rejected(tokens: TokenService, garbage: str) -> None:
    assert tokens.validate(garbage) is None


def test_key_is_shared_through_the_database(store: Store, tokens: TokenService, tmp_path) -> None:
    token = tokens.issue(store.user_id, store.project_id, ["password"]).token
    other_process = TokenService(store.sessions)
    assert other_process.validate(token) is not None

    other_engine = make_engine(f"sqlite:///{tmp_path / 'other.db'}")
    Base.metadata.create_all(other_engine)
    other_cloud = TokenService(make_sessionmaker(other_engine))
    assert other_cloud.validate(token) is None


def test_expired_token_is_rejected_even_when_cached(
    store: Store, tokens: TokenService, clocks: Clocks
) -> None:
    token = tokens.issue(store.user_id, store.project_id, ["password"]).token
    assert tokens.validate(token) is not None
    clocks.wall += 3599
    assert tokens.validate(token) is not None
    clocks.wall += 2  # past expiry, still inside the cache's freshness window
    assert tokens.validate(token) is None


def test_repeat_validation_is_served_from_the_cache(store: Store, tokens: TokenService) -> None:
    token = tokens.issue(store.user_id, store.project_id, ["password"]).token
    tokens.clear_cache()
    assert tokens.validate(token) is not None
    before = len(store.queries)
    for _ in range(100):
        assert tokens.validate(token) is not None
    assert len(store.queries) == before


def test_revoked_role_applies_after_the_cache_window(
    store: Store, tokens: TokenService, clocks: Clocks
) -> None:
    token = tokens.issue(store.user_id, store.project_id, ["password"]).token
    run_in_transaction(
        store.sessions,
        lambda s: service.unassign_role(
            s, user_id=store.user_id, project_id=store.project_id, role_id=store.roles["reader"]
        ),
    )
    assert tokens.validate(token).role_names == {"member", "reader"}  # cached
    clocks.mono += 31
    assert tokens.validate(token).role_names == {"member"}
    run_in_transaction(
        store.sessions,
        lambda s: service.unassign_role(
            s, user_id=store.user_id, project_id=store.project_id, role_id=store.roles["member"]
        ),
    )
    tokens.clear_cache()
    assert tokens.validate(token) is None  # no role left on the project


def test_disabled_user_and_deleted_project_invalidate_tokens(store: Store, tokens: TokenService) -> None:
    scoped = tokens.issue(store.user_id, store.project_id, ["password"]).token
    unscoped = tokens.issue(store.user_id, None, ["password"]).token
    run_in_transaction(store.sessions, lambda s: service.delete_project(s, project_id=store.project_id))
    tokens.clear_cache()
    assert tokens.validate(scoped) is None
    assert tokens.validate(unscoped) is not None
    run_in_transaction(
        store.sessions,
        lambda s: service.update_user(s, user_id=store.user_id, changes={"enabled": False}),
    )
    tokens.clear_cache()
    assert tokens.validate(unscoped) is None


def test_issue_refuses_a_project_without_roles(store: Store, tokens: TokenService) -> None:
    other = run_in_transaction(store.sessions, lambda s: service.create_project(s, name="p2").id)
    with pytest.raises(IdentityError) as caught:
        tokens.issue(store.user_id, other, ["password"])
    assert caught.value.status == 401


def test_rescoped_token_chains_audit_ids_and_keeps_expiry(
    store: Store, tokens: TokenService, clocks: Clocks
) -> None:
    first = tokens.issue(store.user_id, None, ["password"])
    clocks.advance(600)
    second = tokens.issue(
        store.user_id,
        store.project_id,
        ["token", "password"],
        expires_at=first.expires_at,
        parent_audit_id=first.audit_ids[0],
    )
    assert second.expires_at == first.expires_at
    assert second.audit_ids[1] == first.audit_ids[0] and second.audit_ids[0] != first.audit_ids[0]


def test_cache_size_is_bounded(store: Store, clocks: Clocks) -> None:
    small = TokenService(store.sessions, cache_size=10, clock=lambda: clocks.wall, monotonic=lambda: clocks.mono)
    tokens = [small.issue(store.user_id, store.project_id, ["password"]).token for _ in range(25)]
    assert len(small._cache) <= 10
    assert all(small.validate(t) is not None for t in tokens)  # evicted ones re-validate from the DB
    assert len(small._cache) <= 10


# --- passwords --------------------------------------------------------------------------------


def test_password_hash_is_salted_and_verifies() -> None:
    first, second = hash_password("s3cret"), hash_password("s3cret")
    assert first != second and "s3cret" not in first
    assert verify_password("s3cret", first) and verify_password("s3cret", second)
    assert not verify_password("s3cret!", first)
    assert not verify_password("", first)


def test_new_hashes_are_keystones_pbkdf2_sha512_and_old_scrypt_ones_still_verify() -> None:
    import base64
    import hashlib

    assert hash_password("s3cret").startswith("pbkdf2_sha512$100000$")
    # a hash stored before the change (scrypt, n=2**14, r=8, p=1), made here the way it was made then
    salt = bytes(range(16))
    digest = hashlib.scrypt(b"s3cret", salt=salt, n=2**14, r=8, p=1, dklen=32, maxmem=64 * 1024 * 1024)
    b64 = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()  # noqa: E731
    old = f"scrypt${2**14}$8$1${b64(salt)}${b64(digest)}"
    assert verify_password("s3cret", old) and not verify_password("s3cret!", old)


@pytest.mark.parametrize("stored", [None, "", "plain", "md5$x$y", "scrypt$1$2$3$$", "scrypt$a$b$c$d$e",
                                    "pbkdf2_sha512$x$y$z", "pbkdf2_sha512$1$$", "pbkdf2_sha512$100000$a$b$c"])  # fmt: skip
def test_missing_or_malformed_hash_never_matches(stored: str | None) -> None:
    assert not verify_password("anything", stored)
