"""Password hashes (argon2id, argon2-cffi's defaults: RFC 9106 low-memory profile)."""

from __future__ import annotations

from typing import Final

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["MIN_PASSWORD_LENGTH", "hash_password", "needs_rehash", "verify_password", "waste_time"]

MIN_PASSWORD_LENGTH: Final = 10
_HASHER: Final = PasswordHasher()
#: verified against when the login name is unknown, so both cases take the same time
_DUMMY: Final = _HASHER.hash("henrei-no-such-user")


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。")
    return _HASHER.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _HASHER.check_needs_rehash(stored_hash)


def waste_time(password: str) -> None:
    """As long as a verification, for a login name that does not exist."""
    verify_password(_DUMMY, password)
