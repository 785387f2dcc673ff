"""Units: applying and verification, admins, invites, joining and leaving, on both engines."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditAction, AuditEntry
from marketplace.core.errors import (
    Duplicate,
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.time import now_utc
from marketplace.notifications.models import Notification
from marketplace.units import roster
from marketplace.units import services as units
from marketplace.units.models import Unit, UnitKind, UnitMember, UnitStatus
from tests.fixtures.factories import make_regions, make_user, valid_credit_code
from tests.fixtures.units import add_member, make_unit


def application(n: int = 1, **kw) -> units.UnitApplication:
    values = {"kind": "budget", "name": f"洞口县财政局{n}",
              "credit_code": valid_credit_code(9000 + n),
              "region_code": "430525101", "contact_name": "刘会计",
              "contact_mobile": "13900001111", "address_detail": "城关镇人民路 8 号",
              "invoice_title": ""}
    values.update(kw)
    return units.UnitApplication(**values)


@pytest.fixture
def people(session):
    make_regions(session)
    return {"applicant": make_user(session), "admin": make_user(session, Role.platform_admin),
            "other": make_user(session)}


def test_apply_verify_makes_the_applicant_its_first_admin(session, people):
    unit = units.apply(session, people["applicant"], application())
    assert unit.status == UnitStatus.pending
    assert unit.region.code == "430525101" and unit.office_region.code == "430525"
    assert unit.members == []
    units.verify(session, people["admin"], unit)
    session.commit()
    member = units.membership(session, people["applicant"], unit.id)
    assert member is not None and member.is_admin
    assert people["applicant"].has_role(Role.unit_admin)
    assert session.scalar(select(AuditEntry.action).where(AuditEntry.object_id == unit.id)) \
        == AuditAction.unit_verified
    assert session.scalar(select(func.count()).select_from(Notification).where(
        Notification.user_id == people["applicant"].id)) == 1
    with pytest.raises(IllegalTransition):
        units.verify(session, people["admin"], unit)


def test_only_platform_admins_verify(session, people):
    unit = units.apply(session, people["applicant"], application())
    with pytest.raises(Forbidden):
        units.verify(session, people["other"], unit)


def test_reject_with_a_reason_then_apply_again(session, people):
    unit = units.apply(session, people["applicant"], application())
    with pytest.raises(ValidationFailed):
        units.reject(session, people["admin"], unit, "  ")
    units.reject(session, people["admin"], unit, "名称与营业执照不符")
    assert unit.status == UnitStatus.rejected and unit.rejection_reason == "名称与营业执照不符"
    entry = session.scalar(select(AuditEntry).where(AuditEntry.action == AuditAction.unit_rejected))
    assert entry.note == "名称与营业执照不符"
    # someone else cannot take the code; the applicant sends it again, changed
    with pytest.raises(Duplicate):
        units.apply(session, people["other"], application(name="别的单位"))
    again = units.apply(session, people["applicant"], application(name="洞口县财政局（改）"))
    assert again.id == unit.id and again.status == UnitStatus.pending
    with pytest.raises(IllegalTransition):
        units.reject(session, people["admin"], units.verify(session, people["admin"], unit)
                     or unit, "再驳回")


@pytest.mark.parametrize("field,value", [
    ("credit_code", "91430525MA4L0001XZ"),  # the check character is wrong
    ("credit_code", "123"),
    ("kind", "club"),
    ("region_code", "43"),  # a province: a county or below is asked for
    ("contact_mobile", "12345"),
    ("name", "A"),
])
def test_bad_applications_are_refused_with_nothing_written(session, people, field, value):
    with pytest.raises(ValidationFailed) as err:
        units.apply(session, people["applicant"], application(**{field: value}))
    assert field in err.value.errors
    assert session.scalar(select(func.count()).select_from(Unit)) == 0


def test_credit_code_checksum_message_is_chinese(session, people):
    with pytest.raises(ValidationFailed) as err:
        units.apply(session, people["applicant"], application(credit_code="91430525MA4L0001XZ"))
    assert "校验码" in err.value.errors["credit_code"][0]


def test_a_credit_code_is_unique(session, people):
    units.apply(session, people["applicant"], application(1))
    with pytest.raises(Duplicate):
        units.apply(session, people["other"], application(2, credit_code=valid_credit_code(9001)))


def test_invites_join_expire_and_revoke(session, people):
    admin, joiner = people["applicant"], people["other"]
    unit = make_unit(session, admin=admin)
    code = roster.new_invite(session, admin, unit)
    assert len(code) == roster.INVITE_LENGTH
    assert unit.invite_expires_at - now_utc() > timedelta(days=29)
    with pytest.raises(RuleBroken):
        roster.join(session, joiner, unit, "WRONG123")
    member, created = roster.join(session, joiner, unit, code.lower())
    assert created and not member.is_admin
    again, created = roster.join(session, joiner, unit, "anything")  # a member: idempotent
    assert again.id == member.id and not created
    late = make_user(session)
    with pytest.raises(RuleBroken):
        roster.join(session, late, unit, code, now=unit.invite_expires_at + timedelta(seconds=1))
    renewed = roster.new_invite(session, admin, unit)
    assert renewed != code or unit.invite_expires_at > now_utc()
    roster.revoke_invite(session, admin, unit)
    assert unit.invite_code is None
    with pytest.raises(RuleBroken):
        roster.join(session, late, unit, renewed)
    assert roster.find_by_invite(session, renewed) is None


def test_members_cannot_manage_invites(session, people):
    unit = make_unit(session, admin=people["applicant"], members=[people["other"]])
    with pytest.raises(Forbidden):
        roster.new_invite(session, people["other"], unit)
    stranger = make_user(session)
    with pytest.raises(NotFound):
        roster.new_invite(session, stranger, unit)


def test_unverified_units_take_no_members(session, people):
    unit = units.apply(session, people["applicant"], application())
    with pytest.raises(NotFound):
        roster.join(session, people["other"], unit, "ABCDEFGH")


def test_leave_remove_and_the_last_admin_stays(session, people):
    admin, member = people["applicant"], people["other"]
    unit = make_unit(session, admin=admin, members=[member])
    admin_row = units.membership(session, admin, unit.id)
    with pytest.raises(RuleBroken):
        roster.leave(session, admin, unit)
    with pytest.raises(RuleBroken):
        roster.set_admin(session, admin, unit, admin_row.id, False)
    with pytest.raises(RuleBroken):
        roster.remove_member(session, admin, unit, admin_row.id)
    # a second admin, then the first may go
    member_row = units.membership(session, member, unit.id)
    roster.set_admin(session, admin, unit, member_row.id, True)
    assert member.has_role(Role.unit_admin)
    roster.leave(session, admin, unit)
    assert units.membership(session, admin, unit.id) is None
    assert not admin.has_role(Role.unit_admin)  # administers no unit any more
    with pytest.raises(RuleBroken):
        roster.leave(session, member, unit)  # now the last admin
    third = make_user(session)
    third_row = add_member(session, unit, third)
    roster.remove_member(session, member, unit, third_row.id)
    assert units.membership(session, third, unit.id) is None
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {AuditAction.unit_admin_changed, AuditAction.unit_member_removed} <= actions


def test_a_person_may_belong_to_several_units(session, people):
    a = make_unit(session, admin=people["applicant"], members=[people["other"]])
    b = make_unit(session, kind=UnitKind.union, admin=people["applicant"],
                  members=[people["other"]])
    assert {u.id for u in units.countable_units(session, people["other"])} == {a.id, b.id}
    assert units.countable_units(session, people["other"], admin=True) == []
    assert len(units.my_units(session, people["applicant"])) == 2


def test_who_sees_a_unit(session, people):
    unit = make_unit(session, admin=people["applicant"])
    office = make_user(session, Role.office, region_obj=unit.region)
    far_office = make_user(session, Role.office,
                           region_obj=make_regions(session)["431224"])
    units.get_visible(session, office, unit.id)
    units.get_visible(session, people["admin"], unit.id)
    for who in (people["other"], far_office):
        with pytest.raises(NotFound):
            units.get_visible(session, who, unit.id)
    with pytest.raises(Forbidden):
        units.get_managed(session, office, unit.id)


def test_queue_pages_by_status(session, people):
    for n in range(3):
        units.apply(session, people["applicant"], application(n))
    page = units.queue(session, UnitStatus.pending, page=1, per_page=2)
    assert page.total == 3 and len(page.items) == 2 and page.has_next
    assert units.count_by_status(session) == {"pending": 3}


def test_leaderboard_opt_in_and_nickname(session, people):
    unit = make_unit(session, admin=people["applicant"], members=[people["other"]])
    with pytest.raises(Forbidden):
        roster.set_leaderboard(session, people["other"], unit, True)
    roster.set_leaderboard(session, people["applicant"], unit, True)
    assert unit.on_leaderboard
    roster.set_board_nickname(session, people["other"], "  爱心  小王 ")
    assert people["other"].board_nickname == "爱心 小王"
    with pytest.raises(ValidationFailed):
        roster.set_board_nickname(session, people["other"], "长" * 33)
    assert session.scalar(select(func.count()).select_from(UnitMember)) == 2
