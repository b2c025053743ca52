"""Password hashing with the standard library only, salted and compared in constant time.

New hashes are PBKDF2-HMAC-SHA512 (``pbkdf2_sha512$rounds$salt$hash``), one of the schemes
Keystone's ``password_hash_algorithm`` offers, with enough rounds that a guess costs tens of
milliseconds. Hashes made before are scrypt (``scrypt$n$r$p$salt$hash``) and still verify.
scrypt is memory-hard, which is what made it the first choice, but each hash takes a 16 MiB
buffer: a login then lifted the API server's peak resident size by 16 MiB, a sixth of the
project's memory budget (docs/conformance.md, "API speed"; docs/architecture.md, "Passwords").
Both stored forms carry their own parameters, so they can be raised later without
invalidating existing hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "pbkdf2_sha512"
ROUNDS = 100_000  # about 30 ms per hash here, as much as the scrypt it replaces
SCRYPT = "scrypt"
SALT_BYTES = 16
KEY_BYTES = 32
MAX_PASSWORD_BYTES = 4096  # hashing is deliberately slow: refuse absurd inputs early


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _pbkdf2(password: str, salt: bytes, rounds: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", password.encode("utf-8"), salt, rounds, dklen=KEY_BYTES)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=64 * 1024 * 1024
    )


def hash_password(password: str) -> str:
    """Return the storable hash of ``password`` with a fresh random salt."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValueError("password too long")
    salt = secrets.token_bytes(SALT_BYTES)
    return f"{SCHEME}${ROUNDS}${_b64(salt)}${_b64(_pbkdf2(password, salt, ROUNDS))}"


# A hash of nothing in particular: verifying against it when the user does not exist makes a
# failed login take as long as a wrong password, so response times do not reveal user names.
_DUMMY_HASH = f"{SCHEME}${ROUNDS}${_b64(bytes(SALT_BYTES))}${_b64(bytes(KEY_BYTES))}"


def _digest(password: str, parts: list[str]) -> tuple[bytes, str]:
    """(the digest of ``password`` with a stored hash's parameters, the stored digest)."""
    if parts[0] == SCHEME and len(parts) == 4:
        return _pbkdf2(password, _unb64(parts[2]), int(parts[1])), parts[3]
    if parts[0] == SCRYPT and len(parts) == 6:
        return _scrypt(password, _unb64(parts[4]), int(parts[1]), int(parts[2]), int(parts[3])), parts[5]
    raise ValueError("unknown password hash scheme")


def verify_password(password: str, stored: str | None) -> bool:
    """True if ``password`` matches ``stored``; a missing or malformed hash never matches."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return False
    try:
        digest, expected = _digest(password, (stored or _DUMMY_HASH).split("$"))
        matches = hmac.compare_digest(digest, _unb64(expected))
    except (ValueError, TypeError):
        return False
    return matches and stored is not None
