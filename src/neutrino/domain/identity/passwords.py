"""Password hashing with the standard library only (scrypt), salted and compared in constant time.

scrypt is memory-hard, so a stolen database costs an attacker far more per guess than a plain
salted SHA would; the standard library has it, so no native dependency is needed. The stored
form records its own parameters (``scrypt$n$r$p$salt$hash``) so that they can be raised later
without invalidating existing hashes.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

SCHEME = "scrypt"
N, R, P = 2**14, 8, 1  # ~16 MiB and a few tens of milliseconds per hash
SALT_BYTES = 16
KEY_BYTES = 32
MAX_PASSWORD_BYTES = 4096  # hashing is deliberately slow: refuse absurd inputs early


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _derive(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=KEY_BYTES, maxmem=64 * 1024 * 1024
    )


def hash_password(password: str) -> str:
    """Return the storable hash of ``password`` with a fresh random salt."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        raise ValueError("password too long")
    salt = secrets.token_bytes(SALT_BYTES)
    digest = _derive(password, salt, N, R, P)
    return f"{SCHEME}${N}${R}${P}${_b64(salt)}${_b64(digest)}"


# A hash of nothing in particular: verifying against it when the user does not exist makes a
# failed login take as long as a wrong password, so response times do not reveal user names.
_DUMMY_HASH = f"{SCHEME}${N}${R}${P}${_b64(bytes(SALT_BYTES))}${_b64(bytes(KEY_BYTES))}"


def verify_password(password: str, stored: str | None) -> bool:
    """True if ``password`` matches ``stored``; a missing or malformed hash never matches."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return False
    candidate = stored or _DUMMY_HASH
    try:
        scheme, n, r, p, salt, expected = candidate.split("$")
        if scheme != SCHEME:
            return False
        digest = _derive(password, _unb64(salt), int(n), int(r), int(p))
        matches = hmac.compare_digest(digest, _unb64(expected))
    except (ValueError, TypeError):
        return False
    return matches and stored is not None
