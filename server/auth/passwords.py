"""Password hashing with Argon2id (argon2-cffi's defaults, RFC 9106 low-memory profile).

The web handlers use the async pair: the hash runs in a worker thread (argon2 releases the GIL)
so the event loop keeps serving, and at most HASH_CONCURRENCY hashes run at once, so a flood
of logins queues up instead of eating every core and all memory (64 MiB per hash)."""

from anyio import CapacityLimiter, to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()

# Verified against when the username does not exist, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


HASH_CONCURRENCY = 2
_limiter: CapacityLimiter | None = None


def _hash_limiter() -> CapacityLimiter:
    global _limiter
    if _limiter is None:  # made in the running event loop, on first use
        _limiter = CapacityLimiter(HASH_CONCURRENCY)
    return _limiter


async def verify_password_async(password_hash: str | None, password: str) -> bool:
    return await to_thread.run_sync(verify_password, password_hash, password, limiter=_hash_limiter())


async def hash_password_async(password: str) -> str:
    return await to_thread.run_sync(hash_password, password, limiter=_hash_limiter())
