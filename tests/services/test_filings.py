"""Budget units' annual filings (both engines): the review flow (file, send back with a reason,
file again, approve, fixed), the regional minimum (10% by default, 15% in a subtree), no
canteen, a shared canteen, the filing window and the deadline (overdue, under target), the
reminders 30 and 7 days before (each once, also with two jobs at once) and the office's scope."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEntry
from marketplace.core.errors import (
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.time import CHINA
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.units import filings
from marketplace.units.models import (
    FilingEvent,
    FilingReminder,
    FilingStatus,
    UnitFiling,
    UnitKind,
    UnitStatus,
)
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.factories import make_user, region
from tests.fixtures.units import make_unit

NOW = datetime(2026, 2, 1, 10, 0, tzinfo=CHINA)
MD = "03-31"
DEFAULT = 1000


def at(month: int, day: int, year: int = 2026) -> datetime:
    return datetime(year, month, day, 9, 0, tzinfo=CHINA)


@pytest.fixture
def world(session):
    admin = make_user(session, Role.buyer, name="单位管理员")
    office = make_user(session, Role.office, region_obj=region(session, "430525"))
    other_office = make_user(session, Role.office, region_obj=region(session, "431224"))
    platform = make_user(session, Role.platform_admin)
    unit = make_unit(session, name="洞口县财政局", admin=admin)
    return {"admin": admin, "office": office, "other_office": other_office,
            "platform": platform, "unit": unit}


def canteen(year=2026, spend=10_000_000, share=1000) -> filings.FilingInput:
    return filings.FilingInput(year, canteen_spend_fen=spend, reserved_share_bp=share)


def file(session, w, data=None, now=NOW, unit=None):
    return filings.submit(session, w["admin"], unit or w["unit"], data or canteen(), now=now,
                          default_bp=DEFAULT)


def notices(session, user) -> list[str]:
    return list(session.scalars(select(Notification.text).where(
        Notification.user_id == user.id).order_by(Notification.id)))


def test_file_send_back_file_again_approve_then_fixed(session, world):
    w = world
    filing = file(session, w)
    assert (filing.status, filing.reserved_fen, filing.year) == (FilingStatus.pending, 1_000_000,
                                                                 2026)
    filings.review(session, w["office"], filing, "send_back", "食材支出与决算不符", now=NOW)
    assert filing.status == FilingStatus.sent_back and filing.reason == "食材支出与决算不符"
    assert "食材支出与决算不符" in notices(session, w["admin"])[-1]

    again = file(session, w, canteen(spend=12_345_678, share=1250))
    assert again.id == filing.id and again.status == FilingStatus.pending
    assert again.reserved_fen == 1_543_210  # 12,345,678 x 12.5%, rounded up to the fen
    filings.review(session, w["office"], again, "approve", now=NOW)
    assert again.status == FilingStatus.approved and again.decided_by == w["office"].id

    kinds = [e.kind for e in again.events]
    assert kinds == ["filed", "sent_back", "filed", "approved"]
    assert filings.event_parts(again.events[2].note) == {
        "kind": "canteen", "spend_fen": 12_345_678, "share_bp": 1250, "reserved_fen": 1_543_210}
    actions = list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "unit_filing", AuditEntry.object_id == filing.id)
        .order_by(AuditEntry.id)))
    assert actions == ["filing_sent_back", "filing_approved"]
    assert len(notices(session, w["admin"])) == 2

    with pytest.raises(RuleBroken) as fixed:
        file(session, w, canteen(spend=1))
    assert fixed.value.code == "filing_fixed"
    with pytest.raises(IllegalTransition):
        filings.review(session, w["office"], again, "send_back", "再看看", now=NOW)
    assert session.get(UnitFiling, filing.id).reserved_fen == 1_543_210


def test_review_needs_a_reason_to_send_back_and_the_office_over_the_unit(session, world):
    w = world
    filing = file(session, w)
    for reason in ("", " x ", "长" * 201):
        with pytest.raises(ValidationFailed):
            filings.review(session, w["office"], filing, "send_back", reason, now=NOW)
    with pytest.raises(ValidationFailed):
        filings.review(session, w["office"], filing, "maybe", "", now=NOW)
    with pytest.raises(NotFound):
        filings.review(session, w["other_office"], filing, "approve", now=NOW)
    with pytest.raises(NotFound):
        filings.review(session, w["admin"], filing, "approve", now=NOW)
    assert filing.status == FilingStatus.pending and len(filing.events) == 1
    filings.review(session, w["platform"], filing, "approve", now=NOW)  # platform admins too
    assert filing.status == FilingStatus.approved


def test_only_the_units_admins_file(session, world):
    w = world
    with pytest.raises(NotFound):
        filings.submit(session, w["office"], w["unit"], canteen(), now=NOW, default_bp=DEFAULT)
    enterprise = make_unit(session, kind=UnitKind.enterprise, admin=w["admin"])
    with pytest.raises(RuleBroken):
        file(session, w, unit=enterprise)
    pending = make_unit(session, status=UnitStatus.pending, admin=w["admin"])
    with pytest.raises(RuleBroken):
        file(session, w, unit=pending)


def test_below_the_regional_minimum_is_refused(session, world):
    w = world
    with pytest.raises(RuleBroken) as below:
        file(session, w, canteen(share=999))
    assert below.value.code == "below_minimum" and below.value.details["minimum_bp"] == 1000
    with pytest.raises(Forbidden):
        filings.set_minimum(session, w["office"], "43", 1500)
    filings.set_minimum(session, w["platform"], "43", 1500)  # 湖南省: 15%
    with pytest.raises(RuleBroken) as below:
        file(session, w, canteen(share=1400))
    assert below.value.details["minimum_bp"] == 1500
    assert not session.scalar(select(func.count()).select_from(UnitFiling))
    filings.set_minimum(session, w["platform"], "430525", 1200)  # the deepest region wins
    assert filings.minimum_for(session, w["unit"], DEFAULT) == 1200
    assert file(session, w, canteen(share=1200)).reserved_fen == 1_200_000
    xupu = make_unit(session, region_code="431224", admin=w["admin"])
    assert filings.minimum_for(session, xupu, DEFAULT) == 1500
    audited = list(session.scalars(select(AuditEntry.action).where(
        AuditEntry.object_type == "region")))
    assert audited == ["reserve_minimum_set", "reserve_minimum_set"]
    for bad in (0, 10001):
        with pytest.raises(ValidationFailed):
            filings.set_minimum(session, w["platform"], "43", bad)
    with pytest.raises(ValidationFailed):
        filings.set_minimum(session, w["platform"], "999999", 1500)


def test_bad_amounts_write_nothing(session, world):
    w = world
    for data in (canteen(spend=0), canteen(spend=-5), canteen(share=10001),
                 filings.FilingInput(2026, no_canteen=True, shared_with_unit_id=w["unit"].id),
                 canteen(year=2019)):
        with pytest.raises(ValidationFailed):
            file(session, w, data)
    assert not session.scalar(select(func.count()).select_from(UnitFiling))


def test_no_canteen_has_no_quota(session, world):
    w = world
    filing = file(session, w, filings.FilingInput(2026, no_canteen=True))
    assert filing.no_canteen and filing.reserved_fen == 0
    filings.review(session, w["office"], filing, "approve", now=NOW)
    assert filing.status_label == "无食堂"
    [row] = filings.office_units(session, w["office"], 2026, now=NOW, month_day=MD)
    assert row.status == "no_canteen" and row.progress_bp is None and not row.under_target


def test_a_shared_canteen_names_another_verified_budget_unit(session, world):
    w = world
    host = make_unit(session, name="洞口县机关事务中心")
    filing = file(session, w, filings.FilingInput(2026, shared_with_unit_id=host.id))
    assert filing.shared_with_unit_id == host.id and filing.reserved_fen == 0
    assert filings.event_parts(filing.events[-1].note) == {"kind": "shared", "unit_id": host.id}
    enterprise = make_unit(session, kind=UnitKind.enterprise)
    pending = make_unit(session, status=UnitStatus.pending)
    for other in (enterprise.id, pending.id, w["unit"].id, 0):
        with pytest.raises(RuleBroken) as bad:
            file(session, w, filings.FilingInput(2026, shared_with_unit_id=other))
        assert bad.value.code == "shared_unit_invalid"


def test_filings_open_on_1_october_of_the_year_before(session, world):
    w = world
    with pytest.raises(RuleBroken) as early:
        file(session, w, canteen(year=2027), now=at(9, 30))
    assert early.value.code == "filing_not_open"
    assert file(session, w, canteen(year=2027), now=at(10, 1)).year == 2027
    assert filings.deadline(2027, MD).isoformat() == "2027-03-31"
    assert filings.deadline(2026, "02-29").isoformat() == "2026-02-28"
    with pytest.raises(ValueError):
        filings.deadline(2026, "3/31")


def test_overdue_after_the_deadline_and_under_target(session, world):
    w = world
    late = make_unit(session, name="甲单位", admin=w["admin"])
    sent_back = make_unit(session, name="乙单位", admin=w["admin"])
    waiting = make_unit(session, name="丙单位", admin=w["admin"])
    make_unit(session, name="企业", kind=UnitKind.enterprise)  # not listed: files nothing
    approved = file(session, w)  # the finance bureau
    filings.review(session, w["office"], approved, "approve", now=NOW)
    back = file(session, w, unit=sent_back)
    filings.review(session, w["office"], back, "send_back", "请补充", now=NOW)
    file(session, w, unit=waiting)

    def rows(now):
        return {r.unit.name: r for r in filings.office_units(session, w["office"], 2026,
                                                             now=now, month_day=MD)}

    on_time = rows(at(3, 31))
    assert set(on_time) == {"洞口县财政局", "甲单位", "乙单位", "丙单位"}
    assert not any(r.overdue for r in on_time.values())
    after = rows(at(4, 1))
    assert {n for n, r in after.items() if r.overdue} == {"甲单位", "乙单位"}
    assert after["甲单位"].status_label == "未填报" and after["乙单位"].status_label == "已退回"
    assert after["丙单位"].status_label == "待审核"
    bureau = after["洞口县财政局"]
    assert (bureau.reserved_fen, bureau.counted_fen, bureau.progress_bp) == (1_000_000, 0, 0)
    assert bureau.under_target  # nothing counted by April
    assert not rows(at(1, 1))["洞口县财政局"].under_target  # nothing expected on 1 January
    assert filings.target_bp(2026, at(7, 2).date()) == 4986
    assert filings.target_bp(2025, at(7, 2).date()) == 10000
    assert [f.unit.name for f in filings.review_queue(session, w["office"])] == ["丙单位"]
    assert late.id in {r.unit.id for r in after.values()}


def test_an_office_sees_only_the_units_of_its_subtree(session, world):
    w = world
    make_unit(session, name="溆浦县教育局", region_code="431224")
    file(session, w)
    names = {r.unit.name for r in filings.office_units(session, w["other_office"], 2026,
                                                       now=NOW, month_day=MD)}
    assert names == {"溆浦县教育局"}
    assert filings.review_queue(session, w["other_office"]) == []
    everyone = {r.unit.name for r in filings.office_units(session, w["platform"], 2026,
                                                          now=NOW, month_day=MD)}
    assert everyone == {"溆浦县教育局", "洞口县财政局"}


def test_reminders_30_and_7_days_before_each_once(session, world):
    w = world
    filed = make_unit(session, name="已填报单位", admin=w["admin"])
    file(session, w, unit=filed)
    back = make_unit(session, name="被退回单位", admin=w["admin"])
    filings.review(session, w["office"], file(session, w, unit=back), "send_back", "请补充",
                   now=NOW)
    assert filings.remind(session, at(2, 28), MD) == 0  # 31 days before: nothing yet
    assert filings.remind(session, at(3, 1), MD) == 2  # 30 days: the bureau and the sent back
    assert filings.remind(session, at(3, 1), MD) == 0
    assert filings.remind(session, at(3, 10), MD) == 0  # between: the 30-day one was sent
    assert filings.remind(session, at(3, 24), MD) == 2  # 7 days
    assert filings.remind(session, at(3, 30), MD) == 0
    assert filings.remind(session, at(4, 1), MD) == 0  # past the deadline: no more reminders
    rows = sorted(session.execute(select(FilingReminder.unit_id, FilingReminder.days_before)))
    assert rows == sorted([(w["unit"].id, 30), (back.id, 30), (w["unit"].id, 7), (back.id, 7)])
    texts = notices(session, w["admin"])
    assert sum("还剩 30 天" in t for t in texts) == 2 and sum("还剩 7 天" in t for t in texts) == 2


def test_a_late_first_run_sends_the_7_day_reminder_only(session, world):
    assert filings.remind(session, at(3, 26), MD) == 1
    assert session.scalar(select(FilingReminder.days_before)) == 7


def test_two_reminder_jobs_at_once_send_each_reminder_once(app, make):
    def build(session):
        admin = make_user(session, Role.buyer)
        return [make_unit(session, admin=admin).id for _ in range(3)], admin.id

    unit_ids, admin_id = make(build)

    def job(_i):
        due = filings.due_reminders(db.session, at(3, 1), MD)
        sent = sum(filings.send_reminder(db.session, u, y, d, now=at(3, 1), month_day=MD)
                   for u, y, d in due)
        return str(sent)

    results = run_at_once(app, 2, job)
    assert sum(map(int, results)) == 3, results
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(FilingReminder)) == 3
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == admin_id)) == 3
        assert db.session.scalar(select(func.count()).select_from(FilingEvent)) == 0


def test_the_remind_command_sends_each_reminder_once(app, make):
    """`flask units remind` with a deadline 30 days from today (FILING_DEADLINE): the unit's
    admins are told once; a second run sends nothing."""
    from datetime import timedelta

    from marketplace.core.time import now_utc

    due = filings.china_day(now_utc()) + timedelta(days=30)
    app.config["FILING_DEADLINE"] = due.strftime("%m-%d")

    def build(session):
        admin = make_user(session, Role.buyer)
        make_unit(session, admin=admin)
        make_unit(session, kind=UnitKind.enterprise, admin=admin)  # files nothing
        return admin.id

    admin_id = make(build)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["units", "remind"])
    assert first.exit_code == 0, first.output
    assert "已发送填报提醒 1 条" in first.output
    second = runner.invoke(args=["units", "remind"])
    assert "已发送填报提醒 0 条" in second.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Notification).where(
            Notification.user_id == admin_id)) == 1
        assert db.session.scalar(select(FilingReminder.days_before)) == 30
