"""Password hashing (argon2id via argon2-cffi) and the password policy shown to staff."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from crm.people.errors import PeopleError

MIN_LENGTH = 8
MAX_LENGTH = 128

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
    """At least 8 characters with both letters and digits; raises PeopleError otherwise."""
    if not password or len(password) < MIN_LENGTH:
        raise PeopleError(f"密码至少需要 {MIN_LENGTH} 个字符", field)
    if len(password) > MAX_LENGTH:
        raise PeopleError(f"密码不能超过 {MAX_LENGTH} 个字符", field)
    if not any(c.isascii() and c.isalpha() for c in password):
        raise PeopleError("密码必须包含字母", field)
    if not any(c.isdigit() for c in password):
        raise PeopleError("密码必须包含数字", field)
