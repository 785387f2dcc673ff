"""The sign-in guard: failed logins counted in the database, by the login typed (an account or
not: a lock says nothing about whether the account exists) and by the client's address. After
LOGIN_FAILURE_LIMIT failures within LOGIN_FAILURE_WINDOW_MINUTES the login, or the address,
waits until the oldest of those failures leaves the window (TooManyAttempts, 429, saying until
when); an admin may lift it sooner (services.lift_login_lock).

The rows live in login_failures, so every worker and every server counts the same failures.
Recording a failure deletes the rows older than the window (the table holds at most one window
of failures); a successful sign-in deletes its login's rows. No request objects in here: the
views pass the address (`client_address`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import LoginFailure
from marketplace.core.errors import DomainError
from marketplace.core.i18n import Msg
from marketplace.core.time import CHINA, as_aware
from marketplace.core.validators import classify_login

FAILURES = LoginFailure.__table__
KEY_LENGTH = FAILURES.c.login_key.type.length
ADDRESS_LENGTH = FAILURES.c.address.type.length


@dataclass(frozen=True)
class Limits:
    failures: int = 10
    window: timedelta = timedelta(minutes=15)


def limits() -> Limits:
    """The configured limits (LOGIN_FAILURE_LIMIT, LOGIN_FAILURE_WINDOW_MINUTES)."""
    try:
        config = current_app.config
    except RuntimeError:  # outside an application: the defaults
        return Limits()
    return Limits(int(config.get("LOGIN_FAILURE_LIMIT", Limits.failures)),
                  timedelta(minutes=float(config.get("LOGIN_FAILURE_WINDOW_MINUTES", 15))))


class TooManyAttempts(DomainError):
    """Too many failed sign-ins for this login or from this address: wait until `until`."""

    status = 429
    code = "too_many_attempts"

    def __init__(self, until: datetime):
        shown = until.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
        super().__init__(Msg("登录失败次数过多，请于北京时间 %(until)s 之后再试，"
                             "或联系平台管理员解除锁定", until=shown),
                         details={"until": until.isoformat()})
        self.until = until

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the wait is over (a Retry-After header)."""
        return max(1, math.ceil((self.until - now).total_seconds()))


@dataclass(frozen=True)
class Lock:
    """A login or an address that waits: `kind` is "login" or "address"."""

    kind: str
    key: str
    failures: int
    until: datetime


def login_key(login: str | None) -> str:
    """What failures are counted by: the normalised e-mail or mobile number, else the text typed
    (trimmed, lower case), so that "Li@Example.com" and "li@example.com" count together."""
    kind = classify_login(login or "")
    key = kind[1] if kind else (login or "").strip().lower()
    return key[:KEY_LENGTH]


def client_address(remote_addr: str | None, forwarded_for: str | None,
                   trusted_proxies: int = 0) -> str:
    """The client's address: the connection's, or behind `trusted_proxies` reverse proxies the
    one the outermost of them saw (X-Forwarded-For counted from the right: the entries a client
    sends itself sit on the left and are never believed)."""
    if trusted_proxies > 0 and forwarded_for:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if len(hops) >= trusted_proxies:
            return hops[-trusted_proxies][:ADDRESS_LENGTH]
    return (remote_addr or "")[:ADDRESS_LENGTH]


def _locked_until(session: Session, column, value: str, rules: Limits,
                  now: datetime) -> datetime | None:
    """When `value` (a login key or an address) may try again, or None if it may now: the
    limit-th most recent failure within the window leaves it then."""
    if not value:
        return None
    at = session.scalar(select(FAILURES.c.at)
                        .where(column == value, FAILURES.c.at > now - rules.window)
                        .order_by(FAILURES.c.at.desc())
                        .offset(rules.failures - 1).limit(1))
    return as_aware(at) + rules.window if at is not None else None


def locked_until(session: Session, key: str, address: str | None, now: datetime,
                 rules: Limits | None = None) -> datetime | None:
    """The later of the login's and the address's waits, or None."""
    rules = rules or limits()
    waits = [t for t in (_locked_until(session, FAILURES.c.login_key, key, rules, now),
                         _locked_until(session, FAILURES.c.address, address or "", rules, now))
             if t is not None]
    return max(waits) if waits else None


def check(session: Session, key: str, address: str | None, now: datetime) -> None:
    """TooManyAttempts when the login or the address waits (nothing is counted then)."""
    until = locked_until(session, key, address, now)
    if until is not None:
        raise TooManyAttempts(until)


def failed(session: Session, key: str, address: str | None, now: datetime) -> None:
    """Count a failure (and forget those older than the window); TooManyAttempts when it was
    the one that reached the limit."""
    rules = limits()
    session.execute(delete(FAILURES).where(FAILURES.c.at <= now - rules.window))
    session.execute(insert(FAILURES).values(login_key=key, address=(address or "")[:ADDRESS_LENGTH],
                                            at=now))
    check(session, key, address, now)


def succeeded(session: Session, key: str) -> None:
    """The login's owner signed in: its failures are forgotten (the address's are not: one
    account of one's own must not reset a guessing run against others)."""
    session.execute(delete(FAILURES).where(FAILURES.c.login_key == key))


def locks(session: Session, now: datetime) -> list[Lock]:
    """Every login and address that waits now, the longest wait first."""
    rules = limits()
    out = []
    for kind, column in (("login", FAILURES.c.login_key), ("address", FAILURES.c.address)):
        rows = session.execute(
            select(column, func.count()).where(FAILURES.c.at > now - rules.window, column != "")
            .group_by(column).having(func.count() >= rules.failures)).all()
        for value, count in rows:
            until = _locked_until(session, column, value, rules, now)
            if until is not None:
                out.append(Lock(kind, value, count, until))
    return sorted(out, key=lambda lock: (lock.until, lock.kind, lock.key), reverse=True)


def lift(session: Session, *, key: str | None = None, address: str | None = None) -> int:
    """Forget the failures of a login or of an address (so it may try again now; a login whose
    failures all came from a lifted address may too); how many."""
    column, value = ((FAILURES.c.login_key, key) if key else (FAILURES.c.address, address))
    return session.execute(delete(FAILURES).where(column == value)).rowcount or 0
