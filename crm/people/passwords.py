"""Password hashing (argon2id via argon2-cffi) and the password policy shown to staff."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from config.password_policy import problem
from crm.people.errors import PeopleError

_hasher = PasswordHasher()
# Verifying against this when the username is unknown keeps the response time the same, so
# the login form does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("ckb-dummy-password-1")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def burn_verify(password: str) -> None:
    """Spend the time of one verification without a user (see _DUMMY_HASH)."""
    verify_password(_DUMMY_HASH, password)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def check_policy(password: str, field: str = "password") -> None:
    """At least 8 characters with both letters and digits (config.password_policy); raises PeopleError otherwise."""
    message = problem(password)
    if message:
        raise PeopleError(message, field)
