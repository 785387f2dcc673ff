"""Needs: posting, limits, review by the office over the household, editing, resubmitting,
withdrawing, expiry, the wall and its Chinese search, flags (help.needs services and flags)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.audit.models import AuditEntry
from marketplace.core.errors import (
    Conflict,
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.help.needs import flags, rules, services
from marketplace.help.needs.models import NeedEvent, NeedFlag, NeedStatus
from marketplace.sellers.models import SellerKind
from tests.fixtures.factories import (
    image_bytes,
    make_household,
    make_seller,
    make_user,
    region,
)

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=UTC)


def data(**kw) -> rules.NeedInput:
    base = dict(category="education", title="孩子上学需要书包和文具", what="items",
                description="洪溪村的孩子今年上初中",
                items=[{"name": "书包", "quantity": 1, "unit": "个"}])
    base.update(kw)
    return rules.NeedInput(**base)


@pytest.fixture
def world(session):
    liaison = make_user(session, Role.liaison, name="李联络")
    office = make_user(session, Role.office, region_obj=region(session, "430525"))
    other = make_user(session, Role.office, region_obj=region(session, "431224"))
    donor = make_user(session, Role.buyer)
    household = make_household(session, liaison=liaison, name="张三明")
    session.flush()
    return type("W", (), dict(liaison=liaison, office=office, other=other, donor=donor,
                              household=household))


def _steps(session, need):
    return [e.kind for e in session.scalars(select(NeedEvent).where(
        NeedEvent.need_id == need.id).order_by(NeedEvent.id))]


def test_liaison_posts_office_approves(session, world):
    need = services.post(session, world.liaison, world.household, data(), now=NOW)
    assert need.status == NeedStatus.pending and need.village_id == world.household.village_id
    assert need.expires_on == date(2026, 6, 1) + timedelta(days=60)
    assert " 书包 " in need.search_tokens
    with pytest.raises(NotFound):
        services.review(session, world.other, need, "approve", now=NOW)
    with pytest.raises(NotFound):
        services.review(session, world.liaison, need, "approve", now=NOW)
    services.review(session, world.office, need, "approve", now=NOW)
    assert need.status == NeedStatus.open and need.approved_at == NOW == need.reviewed_at
    assert _steps(session, need) == ["posted", "approved"]
    entry = session.scalar(select(AuditEntry).where(AuditEntry.object_type == "need"))
    assert entry.action == "need_approved" and entry.parent_id == world.household.id
    with pytest.raises(IllegalTransition):
        services.review(session, world.office, need, "approve", now=NOW)


def test_who_may_post(session, world):
    stranger = make_user(session, Role.liaison)
    with pytest.raises(NotFound):
        services.post(session, stranger, world.household, data(), now=NOW)
    with pytest.raises(NotFound):
        services.post(session, world.other, world.household, data(), now=NOW)
    assert services.post(session, world.office, world.household, data(), now=NOW).id
    # the household's own account: staff of its household shop
    shop = make_seller(session, kind=SellerKind.household_shop, household=world.household)
    own = make_user(session, Role.buyer, Role.seller_staff, seller=shop)
    assert services.post(session, own, world.household, data(), now=NOW).id


def test_send_back_edit_resubmit(session, world):
    need = services.post(session, world.liaison, world.household, data(), now=NOW)
    with pytest.raises(ValidationFailed):
        services.review(session, world.office, need, "send_back", "", now=NOW)
    with pytest.raises(ValidationFailed):
        services.review(session, world.office, need, "maybe", now=NOW)
    services.review(session, world.office, need, "send_back", "请补充孩子的年级", now=NOW)
    assert need.status == NeedStatus.sent_back and need.review_reason == "请补充孩子的年级"
    services.edit(session, world.liaison, need, data(description="孩子今年上初一"), now=NOW)
    assert need.status == NeedStatus.sent_back and need.description == "孩子今年上初一"
    services.resubmit(session, world.liaison, need, now=NOW)
    assert need.status == NeedStatus.pending
    services.review(session, world.office, need, "approve", now=NOW)
    with pytest.raises(IllegalTransition):
        services.edit(session, world.liaison, need, data(), now=NOW)
    assert _steps(session, need) == ["posted", "sent_back", "edited", "resubmitted",
                                     "approved"]
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["need_sent_back", "need_approved"]


def test_limits(session, world, app):
    app.config["HELP_OPEN_NEEDS_PER_HOUSEHOLD"] = 2
    app.config["HELP_POSTS_PER_DAY"] = 3
    services.post(session, world.liaison, world.household, data(), now=NOW)
    services.post(session, world.liaison, world.household, data(), now=NOW)
    with pytest.raises(RuleBroken) as err:
        services.post(session, world.liaison, world.household, data(), now=NOW)
    assert err.value.code == "household_cap" and "2" in err.value.message
    second = make_household(session, liaison=world.liaison)
    services.post(session, world.liaison, second, data(), now=NOW)
    with pytest.raises(RuleBroken) as err:
        services.post(session, world.liaison, second, data(), now=NOW)
    assert err.value.code == "post_limit"
    services.post(session, world.liaison, second, data(), now=NOW + timedelta(days=1, seconds=1))


def test_wish_cap_is_configurable(session, world, app):
    wish = data(kind="wish", what="amount", amount_fen=30_000, beneficiary="孙女，8岁", items=[])
    assert services.post(session, world.liaison, world.household, wish, now=NOW).id
    app.config["HELP_WISH_CAP_FEN"] = 20_000
    with pytest.raises(ValidationFailed) as err:
        services.post(session, world.liaison, world.household, wish, now=NOW)
    assert "amount" in err.value.errors


def test_photo_is_reencoded(session, world, app):
    from pathlib import Path

    from PIL import Image
    need = services.post(session, world.liaison, world.household, data(),
                         photo=image_bytes("JPEG"), now=NOW)
    path = Path(app.config["UPLOAD_FOLDER"]) / need.photo
    with Image.open(path) as img:
        assert img.format == "JPEG" and not img.getexif()
    with pytest.raises(ValidationFailed) as err:
        services.post(session, world.liaison, world.household, data(), photo=b"not an image",
                      now=NOW)
    assert err.value.field == "photo"


def test_withdraw_and_expire(session, world):
    need = services.post(session, world.liaison, world.household, data(), now=NOW)
    services.withdraw(session, world.liaison, need, now=NOW)
    assert need.status == NeedStatus.withdrawn
    need = services.post(session, world.liaison, world.household,
                         data(expires_on=date(2026, 6, 10)), now=NOW)
    services.review(session, world.office, need, "approve", now=NOW)
    assert services.expire_due(session, now=NOW + timedelta(days=5)) == 0
    assert services.expire_due(session, now=NOW + timedelta(days=10)) == 1
    session.refresh(need)
    assert need.status == NeedStatus.expired
    assert services.expire_due(session, now=NOW + timedelta(days=10)) == 0


def test_wall_filters_and_searches(session, world):
    a = services.post(session, world.liaison, world.household, data(), now=NOW)
    far = make_household(session, village_code="431224210201", name="王五")
    b = services.post(session, world.other, far, data(
        category="medical", title="老人看病需要轮椅", description="腿脚不便",
        what="amount", amount_fen=80_000, items=[]), now=NOW)
    hidden = services.post(session, world.liaison, world.household, data(title="还没审核的需求"),
                           now=NOW)
    services.review(session, world.office, a, "approve", now=NOW)
    services.review(session, world.other, b, "approve", now=NOW)
    rows, total = services.wall(session, services.WallQuery())
    assert total == 2 and hidden not in rows
    assert services.wall(session, services.WallQuery(region=region(session, "430525")))[0] == [a]
    assert services.wall(session, services.WallQuery(category="medical"))[0] == [b]
    assert services.wall(session, services.WallQuery(q="轮椅"))[0] == [b]
    assert services.wall(session, services.WallQuery(q="书包 上学"))[0] == [a]
    assert services.wall(session, services.WallQuery(q="lunyi"))[0] == [b]
    assert services.wall(session, services.WallQuery(q="书包 轮椅"))[1] == 0
    assert services.wall(session, services.WallQuery(q="%_"))[1] == 2
    with pytest.raises(NotFound):
        services.visible_need(session, world.donor, hidden.id)
    assert services.visible_need(session, world.liaison, hidden.id) is hidden
    assert services.visible_need(session, world.office, hidden.id) is hidden
    rows, total = services.review_queue(session, world.office)
    assert rows == [hidden]
    assert services.review_queue(session, world.other) == ([], 0)


def test_flags(session, world):
    need = services.post(session, world.liaison, world.household, data(), now=NOW)
    with pytest.raises(NotFound):
        flags.flag(session, world.donor, need, "duplicate", now=NOW)  # not on the wall yet
    services.review(session, world.office, need, "approve", now=NOW)
    row = flags.flag(session, world.donor, need, "duplicate", "和另一条一样", now=NOW)
    with pytest.raises(Conflict):
        flags.flag(session, world.donor, need, "inappropriate", now=NOW)
    with pytest.raises(ValidationFailed):
        flags.flag(session, world.liaison, need, "boring", now=NOW)
    assert flags.open_flags(session, world.office) == [row]
    assert flags.open_flags(session, world.other) == []
    with pytest.raises(NotFound):
        flags.decide(session, world.other, row, True, now=NOW)
    flags.decide(session, world.office, row, False, "不是重复", now=NOW)
    assert row.status == "dismissed" and need.status == NeedStatus.open
    second = flags.flag(session, world.liaison, need, "inappropriate", now=NOW)
    flags.decide(session, world.office, second, True, "内容不实", now=NOW)
    assert need.status == NeedStatus.removed
    with pytest.raises(IllegalTransition):
        flags.decide(session, world.office, second, False, now=NOW)
    actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions[-2:] == ["need_flag_dismissed", "need_flag_upheld"]
    assert session.scalar(select(NeedFlag).where(NeedFlag.id == second.id)).status == "upheld"


def test_the_demo_has_needs_in_every_state(demo):
    from sqlalchemy import func

    from marketplace.extensions import db
    from marketplace.help.needs.models import Claim, ClaimStatus, Need
    assert "帮扶需求" in demo.output
    with demo.app.app_context():
        statuses = dict(db.session.execute(
            select(Need.status, func.count()).group_by(Need.status)).all())
        assert set(statuses) == set(NeedStatus)
        claim_states = set(db.session.scalars(select(Claim.status).distinct()))
        assert claim_states >= {ClaimStatus.held, ClaimStatus.delivered, ClaimStatus.confirmed,
                                ClaimStatus.lapsed}
        rows, total = services.wall(db.session, services.WallQuery(q="白内障"))
        assert total == 1 and rows[0].claimed_fen >= 80_000  # the pool may allocate too
    again = demo.app.test_cli_runner().invoke(args=["seed", "demo", "--image-size", "48"])
    assert again.exit_code == 0 and "帮扶需求：新建 0" in again.output, again.output


def test_the_office_nearest_the_household_reviews(session, world):
    """A village's information point reviews its households' needs; the county's office sees
    them but leaves the decision to it, and reviews where no nearer office is."""
    point = make_user(session, Role.office, region_obj=region(session, "430525101202"))
    near = make_household(session, village_code="430525101202", liaison=world.liaison,
                          name="王小红")
    need = services.post(session, world.liaison, near, data(), now=NOW)
    session.flush()
    assert services.reviewer_region(session, need.village).code == "430525101202"
    assert services.may_review(session, point, need)
    assert not services.may_review(session, world.office, need)
    with pytest.raises(Forbidden, match="古楼村"):
        services.review(session, world.office, need, "approve", now=NOW)
    assert services.review_queue(session, world.office) == ([], 0)
    assert services.review_queue(session, point) == ([need], 1)
    services.review(session, point, need, "approve", now=NOW)
    assert need.status == NeedStatus.open
    # 洪溪村 has no nearer office: the county's reviews it
    second = services.post(session, world.liaison, world.household, data(), now=NOW)
    session.flush()
    assert services.reviewer_region(session, second.village).code == "430525"
    assert services.review_queue(session, world.office) == ([second], 1)
    assert services.review_queue(session, point) == ([], 0)
    services.review(session, world.office, second, "send_back", "请补充照片", now=NOW)
    assert second.status == NeedStatus.sent_back
