"""Group purchases on a real session, both engines: opening (bad input named, nothing written),
joining (stock held, never oversold, limits), paying, changing, withdrawing, and closing:
a failed campaign refunds every fen and posts nothing, a successful one makes orders at the
tier price reached, refunds the difference exactly and posts once; closing is idempotent and
two closers at once settle once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.errors import (
    Conflict,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.ledger import chain
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Channel, Order, OrderStatus
from marketplace.orders.services import AddressInput, InsufficientStock, LineInput
from marketplace.payments.models import Payment
from marketplace.payments.providers import SimulatedProvider
from marketplace.units import campaigns, participations, settlement
from marketplace.units.campaigns import CampaignInput, ProductTerms
from marketplace.units.models import (
    Campaign,
    CampaignStatus,
    Participation,
    ParticipationStatus,
)
from marketplace.units.rules import Tier
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.factories import make_cooperative, make_product, make_user
from tests.fixtures.units import add_member, make_unit

PROVIDERS = {"simulated": SimulatedProvider()}
ADDRESS = AddressInput("张三", "13800138000", "430525", "人民路 1 号")


def _refresh(session, obj):
    session.refresh(obj)
    return obj


@pytest.fixture
def shop(session):
    """A unit with an admin and three members, and a cooperative's tea (¥50, 100 in stock)."""
    admin = make_user(session, name="单位管理员")
    members = [make_user(session, name=f"职工{i}") for i in range(3)]
    unit = make_unit(session, admin=admin, members=members)
    seller, households = make_cooperative(session, first=700, weights=(1, 1))
    tea = make_product(session, seller, price_fen=5000, stock=100)
    session.commit()
    return {"admin": admin, "members": members, "unit": unit, "tea": tea,
            "households": households}


def _open(session, shop, *, minimum=5, limit=10, tiers=((1, 4800), (5, 4500), (10, 4000)),
          delivery="individual", deadline=None, now=None):
    now = now or now_utc()
    return campaigns.open_campaign(session, shop["admin"], CampaignInput(
        unit_id=shop["unit"].id, title="机关食堂团购云雾茶",
        products=[ProductTerms(shop["tea"].id, [Tier(q, p) for q, p in tiers])],
        minimum_quantity=minimum, per_person_limit=limit,
        deadline=deadline or now + timedelta(days=3), delivery=delivery), now=now)


def _join(session, user, campaign, quantity, *, key=None, now=None, pay=True):
    part = participations.join(session, user, campaign, [LineInput(campaign.products[0].product_id,
                                                              quantity)],
                          ADDRESS, idempotency_key=key or f"join-{user.id}-{quantity}", now=now)
    if pay and campaign.delivery == "individual":
        participations.pay(session, user, part, PROVIDERS, now=now)
    session.commit()
    return part


def test_opening_names_every_problem_and_writes_nothing(session, shop):
    now = now_utc()
    with pytest.raises(ValidationFailed) as caught:
        campaigns.open_campaign(session, shop["admin"], CampaignInput(
            unit_id=shop["unit"].id, title="x",
            products=[ProductTerms(shop["tea"].id, [Tier(5, 4500), Tier(2, 4600),
                                                    Tier(9, 6000)])],
            minimum_quantity=1000, per_person_limit=0, deadline=now - timedelta(hours=1)),
            now=now)
    errors = caught.value.errors
    assert {"title", "deadline", "per_person_limit", "products[0]"} <= set(errors)
    text = " ".join(errors["products[0]"])
    assert "从小到大" in text and "不能高于商品原价" in text
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Campaign)) == 0


def test_minimum_above_the_stock_is_refused(session, shop):
    with pytest.raises(ValidationFailed) as caught:
        _open(session, shop, minimum=101)
    assert "库存" in caught.value.errors["minimum_quantity"][0]


def test_someone_else_cannot_open_for_a_unit(session, shop):
    with pytest.raises(NotFound):
        _open(session, {**shop, "admin": shop["members"][0]})


def test_joining_holds_stock_and_counts_when_paid(session, shop):
    campaign = _open(session, shop)
    session.commit()
    part = _join(session, shop["members"][0], campaign, 3, pay=False)
    tea = _refresh(session, shop["tea"])
    assert (tea.stock, tea.held) == (97, 3)
    assert part.amount_due_fen == 3 * 4800
    assert campaigns.fill(session, campaign).committed == 0  # not paid yet
    participations.pay(session, shop["members"][0], part, PROVIDERS)
    session.commit()
    state = campaigns.fill(session, campaign)
    assert state.committed == 3 and state.missing == 2
    assert state.products[0].next_tier == (Tier(5, 4500), 2)
    assert _refresh(session, part).status == ParticipationStatus.joined


def test_the_same_key_answers_the_same_participation(session, shop):
    campaign = _open(session, shop)
    first = _join(session, shop["members"][0], campaign, 2, key="same-key-1", pay=False)
    again = _join(session, shop["members"][0], campaign, 2, key="same-key-1", pay=False)
    assert first.id == again.id
    with pytest.raises(Conflict):
        _join(session, shop["members"][0], campaign, 2, key="other-key-1", pay=False)


def test_limits_members_and_deadline(session, shop):
    now = now_utc()
    campaign = _open(session, shop, limit=4, now=now)
    with pytest.raises(RuleBroken) as caught:
        _join(session, shop["members"][0], campaign, 5)
    assert caught.value.code == "over_limit"
    session.rollback()
    outsider = make_user(session)
    with pytest.raises(NotFound):
        _join(session, outsider, campaign, 1)
    session.rollback()
    with pytest.raises(RuleBroken) as caught:
        _join(session, shop["members"][0], campaign, 1, now=now + timedelta(days=4))
    assert caught.value.code == "campaign_closed"


def test_change_and_withdraw_move_units_and_money(session, shop):
    campaign = _open(session, shop)
    member = shop["members"][0]
    part = _join(session, member, campaign, 4)
    participations.change(session, member, part, [LineInput(shop["tea"].id, 2)], PROVIDERS)
    session.commit()
    part = _refresh(session, part)
    assert (part.paid_fen, part.refunded_fen, part.amount_due_fen) == (19200, 9600, 9600)
    participations.change(session, member, part, [LineInput(shop["tea"].id, 6)], PROVIDERS)
    session.commit()
    part = _refresh(session, part)
    assert part.paid_fen - part.refunded_fen == part.amount_due_fen == 6 * 4800
    assert _refresh(session, shop["tea"]).held == 6
    participations.withdraw(session, member, part, PROVIDERS)
    session.commit()
    part = _refresh(session, part)
    assert part.status == ParticipationStatus.withdrawn and part.paid_fen == part.refunded_fen
    tea = _refresh(session, shop["tea"])
    assert (tea.stock, tea.held) == (100, 0)


def test_a_failed_campaign_refunds_every_fen_and_posts_nothing(session, shop):
    now = now_utc()
    campaign = _open(session, shop, minimum=10, now=now)
    parts = [_join(session, m, campaign, 2, now=now) for m in shop["members"]]
    unpaid = _join(session, shop["admin"], campaign, 1, now=now, pay=False)
    closed = settlement.close(session, campaign, PROVIDERS, now=now + timedelta(days=3))
    session.commit()
    assert closed.closed_here and closed.status == CampaignStatus.failed
    for part in parts:
        part = _refresh(session, part)
        assert part.status == ParticipationStatus.failed
        assert part.refunded_fen == part.paid_fen == 2 * 4800 and part.refund_due_fen == 0
    assert _refresh(session, unpaid).status == ParticipationStatus.expired
    tea = _refresh(session, shop["tea"])
    assert (tea.stock, tea.held) == (100, 0)
    assert session.scalar(select(func.count()).select_from(Order)) == 0
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    again = settlement.close(session, campaign, PROVIDERS, now=now + timedelta(days=4))
    assert not again.closed_here and again.status == CampaignStatus.failed


def test_a_successful_campaign_settles_at_the_tier_price_once(session, shop):
    now = now_utc()
    campaign = _open(session, shop, minimum=5, now=now)
    parts = [_join(session, m, campaign, q, now=now)
             for m, q in zip(shop["members"], (4, 3, 3), strict=True)]  # 10: ¥40.00 a unit
    closed = settlement.close(session, campaign, PROVIDERS, now=now + timedelta(days=3))
    session.commit()
    assert (closed.status, closed.orders) == (CampaignStatus.succeeded, 3)
    made = session.scalars(select(Order).order_by(Order.id)).all()
    assert [o.total_fen for o in made] == [16000, 12000, 12000]
    assert all(o.status == OrderStatus.paid and o.channel == Channel.group_purchase
               and o.unit_id == shop["unit"].id and o.campaign_id == campaign.id for o in made)
    for part, order in zip(parts, made, strict=True):
        part = _refresh(session, part)
        assert part.status == ParticipationStatus.settled and part.order_id == order.id
        assert part.paid_fen - part.refunded_fen == order.total_fen  # exact to the fen
        payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
        assert payment.amount_fen == order.paid_fen == order.total_fen
    tea = _refresh(session, shop["tea"])
    assert (tea.stock, tea.held) == (90, 0)
    entries = session.scalars(select(LedgerEntry)).all()
    assert sum(e.amount_fen for e in entries) == sum(
        line.attributable_fen for o in made for line in o.lines) > 0
    assert chain.verify(session).ok
    settlement.close(session, campaign, PROVIDERS, now=now + timedelta(days=5))
    session.commit()
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == len(entries)


def test_consolidated_makes_one_order_for_the_unit(session, shop):
    now = now_utc()
    campaign = _open(session, shop, delivery="consolidated", now=now)
    for m in shop["members"]:
        _join(session, m, campaign, 2, now=now)
    settlement.close(session, campaign, PROVIDERS, now=now + timedelta(days=3))
    session.commit()
    order = session.scalar(select(Order))
    assert campaign.order_id == order.id and order.buyer_id == shop["admin"].id
    assert order.status == OrderStatus.pending_payment and order.total_fen == 6 * 4500
    assert order.lines[0].quantity == 6 and order.stock_held
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    tea = _refresh(session, shop["tea"])
    assert (tea.stock, tea.held) == (94, 6)


def test_concurrent_joins_at_the_stock_limit_never_oversell(app, make):
    def build(session):
        admin = make_user(session)
        unit = make_unit(session, admin=admin)
        seller, _ = make_cooperative(session, first=720, weights=(1,))
        tea = make_product(session, seller, price_fen=5000, stock=5)
        users = [make_user(session) for _ in range(8)]
        for u in users:
            add_member(session, unit, u)
        campaign = campaigns.open_campaign(session, admin, CampaignInput(
            unit_id=unit.id, title="抢购", products=[ProductTerms(tea.id, [Tier(1, 4800)])],
            minimum_quantity=1, per_person_limit=2, deadline=now_utc() + timedelta(days=1)))
        return campaign.id, tea.id, [u.id for u in users]
    campaign_id, tea_id, user_ids = make(build)

    def act(i):
        session = db.session
        user = session.get(type(session.get(Campaign, campaign_id).unit.members[0].user),
                           user_ids[i])
        participations.join(session, user, session.get(Campaign, campaign_id),
                       [LineInput(tea_id, 1)], ADDRESS, idempotency_key=f"race-{i}-key")
        return "joined"
    results = run_at_once(app, 8, act, {InsufficientStock: "short"})
    assert sorted(results) == ["joined"] * 5 + ["short"] * 3
    with app.app_context():
        from marketplace.catalog.models import Product
        tea = db.session.get(Product, tea_id)
        assert (tea.stock, tea.held) == (0, 5)


def test_two_closers_at_once_settle_once(app, make):
    def build(session):
        admin = make_user(session)
        members = [make_user(session) for _ in range(3)]
        unit = make_unit(session, admin=admin, members=members)
        seller, _ = make_cooperative(session, first=730, weights=(1, 2))
        tea = make_product(session, seller, price_fen=5000, stock=50)
        now = now_utc()
        campaign = campaigns.open_campaign(session, admin, CampaignInput(
            unit_id=unit.id, title="两人同时结算", products=[ProductTerms(tea.id, [Tier(1, 4800),
                                                                             Tier(4, 4400)])],
            minimum_quantity=3, per_person_limit=5, deadline=now + timedelta(seconds=30)),
            now=now)
        for m in members:
            part = participations.join(session, m, campaign, [LineInput(tea.id, 2)], ADDRESS,
                                  idempotency_key=f"k-{m.id}-close", now=now)
            participations.pay(session, m, part, PROVIDERS, now=now)
        return campaign.id
    campaign_id = make(build)
    later = now_utc() + timedelta(minutes=5)

    def act(i):
        closed = settlement.close(db.session, db.session.get(Campaign, campaign_id), PROVIDERS,
                                  now=later)
        return "closed" if closed.closed_here else "already"
    results = run_at_once(app, 2, act)
    assert sorted(results) == ["already", "closed"]
    with app.app_context():
        session = db.session
        assert session.scalar(select(func.count()).select_from(Order)) == 3
        parts = session.scalars(select(Participation)).all()
        assert all(p.paid_fen - p.refunded_fen == 2 * 4400 for p in parts)
        assert chain.verify(session).ok


def test_flask_campaigns_close_due_settles_past_deadline_once(app, make):
    def build(session):
        admin = make_user(session)
        members = [make_user(session) for _ in range(2)]
        unit = make_unit(session, admin=admin, members=members)
        seller, _ = make_cooperative(session, first=740, weights=(1,))
        tea = make_product(session, seller, price_fen=5000, stock=50)
        past = now_utc() - timedelta(days=2)
        campaign = campaigns.open_campaign(session, admin, CampaignInput(
            unit_id=unit.id, title="命令行结算", products=[ProductTerms(tea.id, [Tier(1, 4800)])],
            minimum_quantity=2, per_person_limit=5, deadline=past + timedelta(days=1)),
            now=past)
        for m in members:
            part = participations.join(session, m, campaign, [LineInput(tea.id, 1)], ADDRESS,
                                  idempotency_key=f"cli-{m.id}-key", now=past)
            participations.pay(session, m, part, PROVIDERS, now=past)
        return campaign.id
    campaign_id = make(build)
    runner = app.test_cli_runner()
    first = runner.invoke(args=["campaigns", "close-due"])
    assert first.exit_code == 0, first.output
    assert "本次结算 1 个（成团 1 个，生成订单 2 笔" in first.output
    second = runner.invoke(args=["campaigns", "close-due"])
    assert "到期团购 0 个" in second.output
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == CampaignStatus.succeeded
        assert db.session.scalar(select(func.count()).select_from(Order)) == 2


def test_joins_racing_the_close_are_either_settled_or_refused(app, make):
    """Joins and a closer at once: a join that got in is in the close's orders; one that came
    after is refused; no participation is left behind holding units of a closed campaign."""
    def build(session):
        admin = make_user(session)
        users = [make_user(session) for _ in range(6)]
        unit = make_unit(session, admin=admin, members=users)
        seller, _ = make_cooperative(session, first=760, weights=(1,))
        tea = make_product(session, seller, price_fen=5000, stock=50)
        campaign = campaigns.open_campaign(session, admin, CampaignInput(
            unit_id=unit.id, title="结算与参团同时", products=[ProductTerms(tea.id, [Tier(1, 4800)])],
            minimum_quantity=1, per_person_limit=3, deadline=now_utc() + timedelta(minutes=1)))
        return campaign.id, tea.id, [u.id for u in users]
    campaign_id, tea_id, user_ids = make(build)
    from marketplace.accounts.models import User
    before, after = now_utc(), now_utc() + timedelta(minutes=2)

    def act(i):
        session = db.session
        campaign = session.get(Campaign, campaign_id)
        if i == 0:
            return "closed" if settlement.close(session, campaign, PROVIDERS,
                                                now=after).closed_here else "not closed"
        user = session.get(User, user_ids[i - 1])
        part = participations.join(session, user, campaign, [LineInput(tea_id, 1)], ADDRESS,
                              idempotency_key=f"race-close-{i}", now=before)
        participations.pay(session, user, part, PROVIDERS, now=before)
        return "joined"
    results = run_at_once(app, 7, act, {RuleBroken: "refused"})
    assert results.count("closed") == 1 and "not closed" not in results
    with app.app_context():
        session = db.session
        parts = session.scalars(select(Participation)).all()
        assert all(p.status == ParticipationStatus.settled for p in parts)
        assert len(parts) == results.count("joined")
        orders_made = session.scalar(select(func.count()).select_from(Order))
        assert orders_made == len(parts)
        from marketplace.catalog.models import Product
        tea = session.get(Product, tea_id)
        assert (tea.stock, tea.held) == (50 - len(parts), 0)


def test_a_close_of_many_participants_writes_them_in_bulk(session, shop):
    """From orders.services.BULK orders on, the close writes through core.db.insert_many (on
    PostgreSQL its twin): the same orders, lines, events and payments, enums as their values."""
    from marketplace.orders.models import OrderEvent
    from marketplace.orders.services import BULK
    now = now_utc()
    people = [make_user(session) for _ in range(BULK + 5)]
    for person in people:
        add_member(session, shop["unit"], person)
    campaign = _open(session, shop, minimum=10, limit=2, now=now)
    for person in people:
        _join(session, person, campaign, 1, now=now)
    closed = settlement.close(session, campaign, PROVIDERS, now=now + timedelta(days=3))
    session.commit()
    assert closed.orders == len(people)
    made = session.scalars(select(Order).where(Order.campaign_id == campaign.id)).all()
    assert {(o.channel, o.status, o.total_fen) for o in made} == {
        (Channel.group_purchase, OrderStatus.paid, 4000)}
    kinds = session.execute(select(OrderEvent.kind, func.count()).where(
        OrderEvent.order_id.in_([o.id for o in made])).group_by(OrderEvent.kind)).all()
    assert dict(kinds) == {"created": len(people), "paid": len(people)}
    assert session.scalar(select(func.count()).select_from(Payment).where(
        Payment.order_id.in_([o.id for o in made]))) == len(people)
    assert chain.verify(session).ok
