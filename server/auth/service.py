"""Users, logins, sessions and throttling."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from server import clock
from server.audit import service as audit
from server.auth.passwords import hash_password, verify_password_async
from server.auth.scope import CurrentUser
from server.models.auth import LoginAttempt, Session, User
from server.models.campaign import Body
from server.db import Prepared, atomic
from server.settings import Settings
from server.vocab import Role

SESSION_COOKIE = "sid"
_TOUCH_EVERY = dt.timedelta(minutes=1)


class AuthError(Exception):
    """A login refusal; the message is shown to the user."""


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def validate_password(password: str) -> None:
    if len(password) < 8:
        raise AuthError("密码至少 8 位")
    if len(password) > 128:
        raise AuthError("密码过长")


async def create_user(username: str, password: str, role: str, body_name: str | None = None,
                      display_name: str = "", actor=None) -> User:
    username = username.strip()
    if not username:
        raise AuthError("用户名不能为空")
    if role not in {r.value for r in Role}:
        raise AuthError(f"角色无效: {role}（可选: {', '.join(r.value for r in Role)}）")
    validate_password(password)
    body_id = None
    if body_name:
        body = await Body.objects().get(Body.name == body_name)
        if body is None:
            raise AuthError(f"填报单位不存在: {body_name}")
        body_id = body.id
    elif role == Role.liaison:
        raise AuthError("联络员必须指定所属填报单位 (--body)")
    async with atomic():
        if await User.exists().where(User.username == username):
            raise AuthError(f"用户名已存在: {username}")
        user = User(username=username, password_hash=hash_password(password), role=role,
                    body=body_id, display_name=display_name or username)
        await user.save()
        await audit.record("create", "app_user", user.id, actor=actor,
                           after={"username": username, "role": role, "body": body_name})
    return user


async def set_password(username: str, password: str, actor=None) -> None:
    validate_password(password)
    async with atomic():
        user = await User.objects().get(User.username == username)
        if user is None:
            raise AuthError(f"用户不存在: {username}")
        await User.update({User.password_hash: hash_password(password),
                           User.password_changed_at: clock.now()}).where(User.id == user.id)
        await revoke_all_sessions(user.id)
        await audit.record("set_password", "app_user", user.id, actor=actor)


async def set_active(username: str, active: bool, actor=None) -> None:
    """Enable or disable an account; disabling ends all of that user's sessions."""
    async with atomic():
        user = await User.objects().get(User.username == username)
        if user is None:
            raise AuthError(f"用户不存在: {username}")
        if user.active == active:
            return
        await User.update({User.active: active}).where(User.id == user.id)
        if not active:
            await revoke_all_sessions(user.id)
        await audit.record("enable" if active else "disable", "app_user", user.id, actor=actor,
                           before={"active": user.active}, after={"active": active})


# Failed logins slow down the next try, with growing delays: per client address (LOGIN_MAX_FAILURES
# × ADDRESS_FACTOR free failures, then 2, 4, 8 … s up to LOGIN_LOCKOUT_MINUTES), so one machine
# can neither guess passwords nor make the server hash for a flood of random usernames; and per
# username (LOGIN_MAX_FAILURES free, then 2, 4, 8 … s up to USERNAME_MAX_DELAY), so guessing
# one officer's password from many machines crawls, while the officer is never locked out for
# longer than a minute. Failures count within LOGIN_LOCKOUT_MINUTES. A refused try is cheap:
# no hash, no row.
ADDRESS_FACTOR = 4
USERNAME_MAX_DELAY = 60


def _delay(failures: int, free: int, cap: int) -> int:
    return 0 if failures < free else min(2 ** min(failures - free + 1, 20), cap)


async def _failures(where, since: dt.datetime) -> tuple[int, dt.datetime | None]:
    where = where & (LoginAttempt.success == False) & (LoginAttempt.at >= since)  # noqa: E712
    n = await LoginAttempt.count().where(where)
    if not n:
        return 0, None
    last = await LoginAttempt.select(LoginAttempt.at).where(where).order_by(LoginAttempt.at, ascending=False).first()
    return n, _aware(last["at"])


async def _wait_seconds(settings: Settings, username: str, ip: str) -> int:
    now = clock.now()
    since = now - dt.timedelta(minutes=settings.login_lockout_minutes)
    wait = 0
    for where, free, cap in (
        (LoginAttempt.ip == ip[:64], settings.login_max_failures * ADDRESS_FACTOR, settings.login_lockout_minutes * 60),
        (LoginAttempt.username == username[:64], settings.login_max_failures, USERNAME_MAX_DELAY),
    ):
        n, last = await _failures(where, since)
        delay = _delay(n, free, cap)
        if delay and last is not None:
            wait = max(wait, int((last + dt.timedelta(seconds=delay) - now).total_seconds() + 0.999))
    return wait


async def authenticate(settings: Settings, username: str, password: str, ip: str) -> User:
    """Check a password, throttled (above). The hash runs off the event loop under a small
    limiter (server/auth/passwords.py)."""
    username = username.strip()
    wait = await _wait_seconds(settings, username, ip)
    if wait > 0:
        raise AuthError(f"登录失败次数过多，请 {wait} 秒后再试")
    user = await User.objects().get(User.username == username)
    ok = await verify_password_async(user.password_hash if user else None, password)
    ok = ok and user is not None and user.active
    await LoginAttempt.insert(LoginAttempt(username=username[:64], ip=ip[:64], success=ok))
    if not ok:
        raise AuthError("用户名或密码错误")
    return user


async def open_session(settings: Settings, user: User, ip: str, user_agent: str) -> str:
    token = secrets.token_urlsafe(32)
    await Session.insert(Session(
        token_hash=token_hash(token), user=user.id, ip=ip[:64], user_agent=user_agent[:255],
        expires_at=clock.now() + dt.timedelta(hours=settings.session_hours),
    ))
    return token


# Every request reads its session: the query is built and compiled once (db.Prepared).
_SESSION = Prepared(lambda token_hash: Session.select(
    Session.id, Session.expires_at, Session.revoked_at, Session.last_seen_at,
    Session.user.id, Session.user.username, Session.user.display_name, Session.user.role,
    Session.user.active, Session.user.body.id, Session.user.body.name,
    Session.user.body.scope, Session.user.body.sector, Session.user.body.township,
).where(Session.token_hash == token_hash).limit(1))


async def load_session(token: str | None, idle_minutes: int | None = None) -> CurrentUser | None:
    """The session's user, or None: unknown, revoked, past SESSION_HOURS, or unused for
    idle_minutes (SESSION_IDLE_MINUTES; last_seen_at is kept to the minute)."""
    if not token:
        return None
    row = await _SESSION.first(token_hash(token))
    now = clock.now()
    if row is None or row["revoked_at"] is not None or _aware(row["expires_at"]) <= now:
        return None
    if idle_minutes and now - _aware(row["last_seen_at"]) > dt.timedelta(minutes=idle_minutes) + _TOUCH_EVERY:
        return None
    if not row["user.active"]:
        return None
    if now - _aware(row["last_seen_at"]) > _TOUCH_EVERY:
        await Session.update({Session.last_seen_at: now}).where(Session.id == row["id"])
    return CurrentUser(
        id=row["user.id"], username=row["user.username"], display_name=row["user.display_name"],
        role=row["user.role"], body_id=row["user.body.id"], body_name=row["user.body.name"] or "",
        body_scope=row["user.body.scope"] or "district", body_sector=row["user.body.sector"],
        body_township_id=row["user.body.township"], session_id=row["id"],
    )


async def revoke_session(session_id: int) -> None:
    await Session.update({Session.revoked_at: clock.now()}).where(
        (Session.id == session_id) & Session.revoked_at.is_null()
    )


async def revoke_all_sessions(user_id: int) -> None:
    await Session.update({Session.revoked_at: clock.now()}).where(
        (Session.user == user_id) & Session.revoked_at.is_null()
    )
