"""The sign-in guard (accounts.guard) and session generations, on both engines: failures counted
in the database per login and per address, the wait and its end, pruning, an admin's lift, the
unknown login's password check, and what ends a user's sessions and tokens."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts import guard, services
from marketplace.accounts.models import LoginFailure, Role, User
from marketplace.core.errors import Forbidden, NotFound, Unauthorized, ValidationFailed
from marketplace.core.time import CHINA, now_utc
from marketplace.extensions import db
from tests.fixtures.factories import PASSWORD, make_user

LIMIT = 10
WINDOW = timedelta(minutes=15)


def n_failures(session) -> int:
    return session.scalar(select(func.count()).select_from(LoginFailure))


def fail(session, login, address="198.51.100.7", times=1):
    """`times` wrong passwords; the errors raised, in order."""
    errors = []
    for _ in range(times):
        with pytest.raises((Unauthorized, guard.TooManyAttempts)) as info:
            services.authenticate(session, login, "wrong-pass1", address=address)
        errors.append(info.value)
    return errors


def test_the_configured_limits_are_ten_in_fifteen_minutes(app):
    assert app.config["LOGIN_FAILURE_LIMIT"] == LIMIT
    assert app.config["LOGIN_FAILURE_WINDOW_MINUTES"] == 15
    with app.app_context():
        assert guard.limits() == guard.Limits(LIMIT, WINDOW)


def test_an_account_waits_after_ten_failures_from_any_address(session):
    user = make_user(session, login="li@example.test")
    errors = [fail(session, "li@example.test", address=f"203.0.113.{i}")[0] for i in range(10)]
    assert all(type(e) is Unauthorized for e in errors[:9])
    locked = errors[9]
    assert isinstance(locked, guard.TooManyAttempts) and locked.status == 429
    assert locked.code == "too_many_attempts"
    # the right password from a fresh address does not get in either, and is not counted
    before = n_failures(session)
    with pytest.raises(guard.TooManyAttempts) as info:
        services.authenticate(session, " LI@example.test ", PASSWORD, address="192.0.2.1")
    assert n_failures(session) == before
    until = info.value.until
    assert now_utc() + WINDOW - timedelta(seconds=30) < until <= now_utc() + WINDOW
    assert info.value.details == {"until": until.isoformat()}
    shown = until.astimezone(CHINA).strftime("%Y-%m-%d %H:%M")
    assert "登录失败次数过多" in info.value.message and shown in info.value.message
    assert user.last_login_at is None


def test_an_address_waits_after_ten_failures_on_any_logins(session):
    make_user(session, login="li@example.test")
    for i in range(9):
        assert type(fail(session, f"guess{i}@example.test", address="198.51.100.7")[0]) is \
            Unauthorized
    assert isinstance(fail(session, "13800138000", address="198.51.100.7")[0],
                      guard.TooManyAttempts)
    with pytest.raises(guard.TooManyAttempts):
        services.authenticate(session, "li@example.test", PASSWORD, address="198.51.100.7")
    # the account itself is not locked: from elsewhere it signs in
    assert services.authenticate(session, "li@example.test", PASSWORD,
                                 address="192.0.2.1").email == "li@example.test"


def test_unknown_logins_lock_like_known_ones(session):
    """A lock says nothing about whether the account exists."""
    errors = [fail(session, "nobody@example.test", address=f"203.0.113.{i}")[0]
              for i in range(10)]
    assert [type(e) for e in errors] == [Unauthorized] * 9 + [guard.TooManyAttempts]
    assert [e.message for e in errors[:9]] == ["账号或密码不正确"] * 9


def test_the_wait_ends_when_the_oldest_failure_leaves_the_window(session):
    start = now_utc() - timedelta(minutes=20)
    for i in range(10):  # one a minute, from 20 minutes ago to 11 minutes ago
        session.execute(guard.FAILURES.insert().values(
            login_key="li@example.test", address=f"203.0.113.{i}",
            at=start + timedelta(minutes=i)))
    now = now_utc()
    # 4 of them (11 to 14 minutes ago) are still within the window: not locked
    assert guard.locked_until(session, "li@example.test", None, now) is None
    for i in range(6):
        session.execute(guard.FAILURES.insert().values(
            login_key="li@example.test", address="203.0.113.99", at=now - timedelta(seconds=i)))
    until = guard.locked_until(session, "li@example.test", None, now)
    assert until == start + timedelta(minutes=6) + WINDOW  # the 10th most recent leaves then
    assert guard.locked_until(session, "li@example.test", None, until) is None
    assert guard.locked_until(session, "li@example.test", None, until - timedelta(seconds=1))


def test_old_failures_are_pruned_and_success_forgets_the_logins(session):
    make_user(session, login="li@example.test")
    old = now_utc() - WINDOW - timedelta(minutes=1)
    for i in range(30):
        session.execute(guard.FAILURES.insert().values(login_key=f"x{i}", address="192.0.2.9",
                                                       at=old))
    fail(session, "li@example.test", times=3)
    assert n_failures(session) == 3  # the 30 old ones went with the first new failure
    fail(session, "other@example.test", times=2)
    services.authenticate(session, "li@example.test", PASSWORD, address="198.51.100.7")
    keys = session.scalars(select(LoginFailure.login_key)).all()
    assert keys == ["other@example.test"] * 2  # the address's failures stay counted


def test_counting_is_shared_through_the_database(app):
    """Two sessions on their own connections (two workers): each sees the other's failures."""
    with app.app_context():
        make_user(db.session, login="li@example.test")
        db.session.commit()
        with Session(db.engine) as one, Session(db.engine) as two:
            for i in range(5):
                fail(one, "li@example.test", address=f"203.0.113.{i}")
                one.commit()
                fail(two, "li@example.test", address=f"192.0.2.{i}")
                two.commit()
            assert n_failures(one) == 10
            one.rollback()  # SQLite: one writer at a time
            assert n_failures(two) == 10
            two.rollback()
            with pytest.raises(guard.TooManyAttempts):
                services.authenticate(one, "li@example.test", PASSWORD, address="192.0.2.200")


def test_an_admin_lifts_a_lock_and_lists_the_locks(session):
    admin = make_user(session, Role.platform_admin)
    buyer = make_user(session, login="li@example.test")
    fail(session, "li@example.test", address=None, times=10)
    fail(session, "nobody@example.test", address="198.51.100.7", times=10)
    locks = services.login_locks(session)
    assert {(lock.kind, lock.key, lock.failures) for lock in locks} == {
        ("login", "li@example.test", 10), ("login", "nobody@example.test", 10),
        ("address", "198.51.100.7", 10)}
    with pytest.raises(Forbidden):
        services.lift_login_lock(session, buyer, login="li@example.test")
    with pytest.raises(ValidationFailed):
        services.lift_login_lock(session, admin)
    assert services.lift_login_lock(session, admin, login="Li@Example.test") == 10
    assert services.authenticate(session, "li@example.test", PASSWORD).id == buyer.id
    with pytest.raises(NotFound):  # lifted already
        services.lift_login_lock(session, admin, login="li@example.test")
    # an address's failures go with its lock: the login they all tried waits no more either
    assert services.lift_login_lock(session, admin, address="198.51.100.7") == 10
    assert services.login_locks(session) == []


def test_an_unknown_login_has_a_password_hash_checked_too(session, monkeypatch, app):
    """The same work as a wrong password (no timing assert: the check is counted)."""
    make_user(session, login="li@example.test")
    checked = []

    def counting(stored, password):
        checked.append(stored)
        return real(stored, password)
    real = services.check_password_hash
    monkeypatch.setattr(services, "check_password_hash", counting)
    for login in ("nobody@example.test", "not a login", "13800000000", "li@example.test"):
        with pytest.raises(Unauthorized):
            services.authenticate(session, login, "wrong-pass1")
    assert len(checked) == 4
    method = app.config["PASSWORD_HASH_METHOD"]
    assert all(h.startswith(method + "$") for h in checked)  # the same method, same cost
    assert checked[0] == checked[1] == checked[2] != checked[3]


def test_client_address_believes_only_the_trusted_proxies():
    assert guard.client_address("10.0.0.1", "1.2.3.4", 0) == "10.0.0.1"
    assert guard.client_address("10.0.0.1", "6.6.6.6, 1.2.3.4", 1) == "1.2.3.4"
    assert guard.client_address("10.0.0.1", "6.6.6.6, 1.2.3.4, 10.0.0.2", 2) == "1.2.3.4"
    assert guard.client_address("10.0.0.1", "1.2.3.4", 2) == "10.0.0.1"  # too few hops
    assert guard.client_address(None, None, 0) == ""


# ---- session generations ----------------------------------------------------------------------

def test_a_new_password_a_revoked_role_and_signing_out_raise_the_generation(session):
    user = make_user(session, Role.buyer, Role.liaison)
    session.flush()
    assert user.session_generation == 0 and user.get_id() == f"{user.id}:0"
    services.set_password(user, "newpass123")
    assert user.session_generation == 1
    services.revoke_grant(session, user, next(g.id for g in user.grants
                                              if g.role == Role.liaison))
    assert user.session_generation == 2
    services.sign_out_everywhere(session, user)
    assert user.session_generation == 3 and user.get_id() == f"{user.id}:3"
    services.grant_role(session, user, Role.liaison)  # a role given ends nothing
    assert user.session_generation == 3


def test_load_user_takes_only_the_current_generation(app):
    with app.app_context():
        user = make_user(db.session)
        db.session.commit()
        uid = user.id
        assert services.load_user(f"{uid}:0").id == uid
        for stale in (f"{uid}", f"{uid}:1", f"{uid}:x", "", "x:0", f"{uid}:0:0"):
            assert services.load_user(stale) is None, stale
        services.sign_out_everywhere(db.session, user)
        db.session.commit()
        db.session.expunge_all()
        assert services.load_user(f"{uid}:0") is None
        assert services.load_user(f"{uid}:1").id == uid
        db.session.get(User, uid).active = False
        db.session.commit()
        db.session.expunge_all()
        assert services.load_user(f"{uid}:1") is None


def test_tokens_carry_the_generation_and_nothing_of_the_password(session):
    user = make_user(session)
    session.flush()
    token = services.issue_token(user, "k" * 32)
    payload = services._serializer("k" * 32).loads(token)
    assert payload == {"uid": user.id, "gen": 0}
    fragments = {user.password_hash[i:i + 6] for i in range(len(user.password_hash) - 5)}
    readable = str(payload)
    assert not any(f in readable for f in fragments)
    assert services.user_from_token(session, token, "k" * 32, 60).id == user.id
    services.sign_out_everywhere(session, user)
    with pytest.raises(Unauthorized):
        services.user_from_token(session, token, "k" * 32, 60)
    # a token of the old shape (a piece of the hash, no generation) is refused
    old = services._serializer("k" * 32).dumps({"uid": user.id,
                                                 "pw": user.password_hash[-12:]})
    with pytest.raises(Unauthorized):
        services.user_from_token(session, old, "k" * 32, 60)
    fresh = services.issue_token(user, "k" * 32)
    assert services.user_from_token(session, fresh, "k" * 32, 60).id == user.id
