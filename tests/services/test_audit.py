"""The audit log on both engines: `record` appends in the caller's transaction (a rollback
leaves nothing), the mapper and the database refuse changing or deleting an entry, the admin
list filters, and an object's entries are for those who may see the object."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from marketplace.accounts.models import Role
from marketplace.audit import services as audit
from marketplace.audit.models import AuditAction, AuditEntry, AuditLogIsInsertOnly, AuditObject
from marketplace.core.errors import Forbidden, NotFound
from marketplace.core.time import today_china
from tests.fixtures.factories import make_household, make_seller, make_user


def count(session) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry))


def test_record_appends_in_the_callers_transaction(session, regions):
    admin = make_user(session, Role.platform_admin, name="管理员甲")
    seller = make_seller(session)
    entry = audit.record(session, admin, AuditAction.seller_suspended, AuditObject.seller,
                         seller.id, before={"status": "verified"},
                         after={"status": "suspended"}, note="  证照过期 ")
    session.flush()
    assert (entry.actor_id, entry.actor_name, entry.action, entry.object_type) == (
        admin.id, "管理员甲", "seller_suspended", "seller")
    assert (entry.before, entry.after, entry.note) == (
        {"status": "verified"}, {"status": "suspended"}, "证照过期")
    session.rollback()  # the decision did not go through: neither did its entry
    assert count(session) == 0


def test_the_system_records_without_an_actor(session, regions):
    user = make_user(session)
    entry = audit.record(session, None, "role_granted", "user", user.id, after={"role": "buyer"})
    session.commit()
    assert (entry.actor_id, entry.actor_name) == (None, "")
    with pytest.raises(ValueError):
        audit.record(session, None, "no_such_action", "user", user.id)
    with pytest.raises(ValueError):
        audit.record(session, None, "role_granted", "planet", user.id)
    with pytest.raises(ValueError):
        audit.record(session, None, "role_granted", "user", None)


def test_the_mapper_refuses_changes_and_deletes(session, regions):
    user = make_user(session)
    entry = audit.record(session, user, "role_granted", "user", user.id)
    session.commit()
    entry.note = "改过"
    with pytest.raises(AuditLogIsInsertOnly):
        session.flush()
    session.rollback()
    session.delete(entry)
    with pytest.raises(AuditLogIsInsertOnly):
        session.flush()
    session.rollback()
    assert session.get(AuditEntry, entry.id).note == ""


@pytest.mark.parametrize("statement", [
    "UPDATE audit_entries SET note = 'changed'",
    "DELETE FROM audit_entries",
])
def test_the_database_refuses_updates_and_deletes(session, regions, statement):
    user = make_user(session)
    audit.record(session, user, "role_granted", "user", user.id, note="原样")
    session.commit()
    with pytest.raises(DBAPIError, match="insert-only"):
        session.execute(text(statement))
    session.rollback()
    assert session.scalars(select(AuditEntry.note)).all() == ["原样"]


def test_the_admin_list_filters_and_pages(session, regions):
    admin = make_user(session, Role.platform_admin, name="管理员甲")
    other = make_user(session, Role.platform_admin, name="管理员乙")
    seller = make_seller(session)
    for _ in range(3):
        audit.record(session, admin, "seller_verified", "seller", seller.id)
    audit.record(session, other, "seller_suspended", "seller", seller.id, note="抽检不合格")
    audit.record(session, other, "role_granted", "user", admin.id)
    session.commit()

    def ids(**kw):
        return [e.id for e in audit.search(session, admin, audit.AuditFilter(**kw)).items]

    assert len(ids()) == 5 and ids() == sorted(ids(), reverse=True)  # newest first
    assert len(ids(action=AuditAction.seller_verified)) == 3
    assert len(ids(object_type=AuditObject.user)) == 1
    assert len(ids(object_type=AuditObject.seller, object_id=seller.id)) == 4
    assert len(ids(actor_id=other.id)) == 2
    assert len(ids(actor_name="乙")) == 2
    today = today_china()
    assert len(ids(since=today, until=today)) == 5
    assert ids(since=today + timedelta(days=1)) == []
    assert ids(until=today - timedelta(days=1)) == []
    page = audit.search(session, admin, audit.AuditFilter(), page=2, per_page=2)
    assert (len(page.items), page.total, page.pages) == (2, 5, 3)
    assert len(audit.matching(session, admin, audit.AuditFilter(actor_id=admin.id))) == 3

    for user in (make_user(session, Role.office), None):
        with pytest.raises(Exception) as info:
            audit.search(session, user, audit.AuditFilter())
        assert info.type.__name__ in {"Forbidden", "Unauthorized"}
    with pytest.raises(Forbidden):
        audit.matching(session, make_user(session, Role.seller_staff), audit.AuditFilter())


def test_an_objects_entries_are_for_those_who_may_see_it(session, regions):
    seller = make_seller(session)
    staff = make_user(session, Role.seller_staff, seller=seller)
    stranger = make_user(session, Role.seller_staff, seller=make_seller(session))
    admin = make_user(session, Role.platform_admin)
    for _ in range(7):
        audit.record(session, admin, "seller_verified", "seller", seller.id)
    audit.record(session, staff, "lot_deleted", "supply_lot", 99, parent=("seller", seller.id))
    session.commit()
    assert len(audit.object_entries(session, staff, "seller", seller)) == 7
    assert len(audit.object_entries(session, admin, "seller", seller, limit=3)) == 3
    with pytest.raises(NotFound):
        audit.object_entries(session, stranger, "seller", seller)
    with pytest.raises(NotFound):
        audit.object_entries(session, None, "seller", seller)
    within = audit.entries_within(session, staff, "seller", seller,
                                  object_types=[AuditObject.supply_lot])
    assert [(e.object_type, e.object_id) for e in within] == [("supply_lot", 99)]
    with pytest.raises(NotFound):
        audit.entries_within(session, stranger, "seller", seller)
    by_object = audit.entries_by_object(session, admin, "seller", [seller, stranger.grants[0]
                                                                    .seller], each=5)
    assert list(by_object) == [seller.id] and len(by_object[seller.id]) == 5
    with pytest.raises(NotFound):
        audit.entries_by_object(session, staff, "seller", [seller, stranger.grants[0].seller])


def test_an_office_sees_only_its_subtrees_households(session, regions):
    hh = make_household(session, village_code="430525101201")
    near = make_user(session, Role.office, region_obj=regions["430525"])
    far = make_user(session, Role.office, region_obj=regions["431224"])
    audit.record(session, near, "household_registered", "household", hh.id,
                 after={"head": hh.masked_name})
    session.commit()
    assert [e.after for e in audit.object_entries(session, near, "household", hh)] == [
        {"head": "张*明"}]
    with pytest.raises(NotFound):
        audit.object_entries(session, far, "household", hh)
