"""Lifting a sign-in lock writes the audit log (both engines): on the account's row when the
login has one, by its text otherwise (a login without an account, an address); a refused lift
writes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.accounts import guard
from marketplace.accounts import services as accounts
from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEntry
from marketplace.core.errors import Forbidden, NotFound, Unauthorized
from tests.fixtures.factories import make_user


def fail(session, login, address, times=10):
    """`times` wrong passwords."""
    for _ in range(times):
        with pytest.raises((Unauthorized, guard.TooManyAttempts)):
            accounts.authenticate(session, login, "wrong-pass1", address=address)


def test_lifting_a_lock_is_logged(session):
    admin = make_user(session, Role.platform_admin, name="管理员甲")
    buyer = make_user(session, login="li@example.test")
    fail(session, "li@example.test", None)
    fail(session, "nobody@example.test", "198.51.100.7")
    with pytest.raises(Forbidden):
        accounts.lift_login_lock(session, buyer, login="li@example.test")
    accounts.lift_login_lock(session, admin, login="Li@Example.test")
    with pytest.raises(NotFound):
        accounts.lift_login_lock(session, admin, login="li@example.test")
    accounts.lift_login_lock(session, admin, address="198.51.100.7")
    fail(session, "ghost@example.test", None, times=3)
    accounts.lift_login_lock(session, admin, login="ghost@example.test")
    session.commit()
    account, address, ghost = session.scalars(select(AuditEntry).order_by(AuditEntry.id))
    assert (account.action, account.object_type, account.object_id, account.actor_id) == (
        "login_lock_lifted", "user", buyer.id, admin.id)
    assert (account.before, account.after) == ({"failures": 10}, {"failures": 0})
    assert (address.object_type, address.object_id, address.before) == (
        "login", None, {"address": "198.51.100.7", "failures": 10})
    assert (ghost.object_type, ghost.before) == (
        "login", {"login": "ghost@example.test", "failures": 3})
