"""Passwords hashed with argon2id (RFC 9106), never stored or logged in the clear.

The parameters are argon2-cffi's defaults for argon2id (its "low memory" RFC 9106 profile: 64 MiB,
3 passes, 4 lanes); a hash made with older parameters is re-hashed at the next sign-in.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 10
MAX_LENGTH = 256

_hasher = PasswordHasher()


class WeakPasswordError(ValueError):
    pass


def check_strength(password: str) -> None:
    """`WeakPasswordError` saying why, for a password too short, too long or all one character."""
    if len(password) < MIN_LENGTH:
        raise WeakPasswordError(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPasswordError(f"a password has at most {MAX_LENGTH} characters")
    if len(set(password)) < 4:
        raise WeakPasswordError("a password needs at least 4 different characters")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


# Verified when the address is unknown, so an unknown address costs what a wrong password does.
DECOY_HASH = hash_password("decoy password that no account has")
