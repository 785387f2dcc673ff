"""Property: whatever the tiers and the participants' quantities, a closed campaign gives each
participant back exactly what they paid above the tier price reached (exact to the fen), the
orders' totals are those prices, refunds and orders add up to what was captured, and the ledger
still verifies; a campaign short of its minimum gives back everything and posts nothing. Both
engines, on a real session."""
from __future__ import annotations

import itertools
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from marketplace.core.time import now_utc
from marketplace.ledger import chain
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Order
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments.providers import SimulatedProvider
from marketplace.units import campaigns, participations, rules, settlement
from marketplace.units.campaigns import CampaignInput, ProductTerms
from marketplace.units.models import CampaignStatus, ParticipationStatus
from marketplace.units.rules import Tier
from tests.fixtures.factories import make_cooperative, make_product, make_user
from tests.fixtures.units import make_unit

PROVIDERS = {"simulated": SimulatedProvider()}
ADDRESS = AddressInput("张三", "13800138000", "430525", "人民路 1 号")
_households = itertools.count(9000, 2)  # each example's cooperative has its own households


@st.composite
def tiers(draw):
    """A catalogue price and valid tiers: quantities up, prices strictly down, none above it."""
    list_price = draw(st.integers(100, 100_000))
    count = draw(st.integers(1, 4))
    quantities = sorted(draw(st.sets(st.integers(1, 30), min_size=count, max_size=count)))
    prices = sorted(draw(st.sets(st.integers(1, list_price), min_size=count, max_size=count)),
                    reverse=True)
    return list_price, [Tier(q, p) for q, p in zip(quantities, prices, strict=True)]


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(terms=tiers(), quantities=st.lists(st.integers(1, 6), min_size=1, max_size=6),
       minimum=st.integers(1, 25))
def test_every_fen_accounted_for_at_the_close(session, terms, quantities, minimum):
    list_price, product_tiers = terms
    now = now_utc()
    admin = make_user(session)
    people = [make_user(session) for _ in quantities]
    unit = make_unit(session, admin=admin, members=people)
    seller, _ = make_cooperative(session, first=next(_households), weights=(1, 2))
    product = make_product(session, seller, price_fen=list_price, stock=200)
    campaign = campaigns.open_campaign(session, admin, CampaignInput(
        unit_id=unit.id, title="性质测试团购",
        products=[ProductTerms(product.id, product_tiers)], minimum_quantity=minimum,
        per_person_limit=6, deadline=now + timedelta(hours=1)), now=now)
    parts = []
    for person, q in zip(people, quantities, strict=True):
        part = participations.join(session, person, campaign, [LineInput(product.id, q)], ADDRESS,
                              idempotency_key=f"prop-{person.id}-{q}", now=now)
        participations.pay(session, person, part, PROVIDERS, now=now)
        parts.append(part)
    start = rules.starting_price(list_price, product_tiers)
    assert all(p.paid_fen == start * q for p, q in zip(parts, quantities, strict=True))
    entries_before = session.scalar(select(func.count()).select_from(LedgerEntry))
    closed = settlement.close(session, campaign, PROVIDERS, now=now + timedelta(hours=1))
    session.commit()
    total = sum(quantities)
    captured = sum(p.paid_fen for p in parts)
    for part in parts:
        session.refresh(part)
        assert part.refund_due_fen == 0
    if total < minimum:
        assert closed.status == CampaignStatus.failed
        assert all(p.status == ParticipationStatus.failed and p.refunded_fen == p.paid_fen
                   for p in parts)
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == entries_before
        return
    assert closed.status == CampaignStatus.succeeded
    final = rules.unit_price(list_price, product_tiers, total)
    assert final <= start
    made = {o.id: o for o in session.scalars(select(Order).where(
        Order.campaign_id == campaign.id))}
    assert len(made) == len(parts)
    for part, q in zip(parts, quantities, strict=True):
        order = made[part.order_id]
        assert order.total_fen == order.paid_fen == final * q
        assert part.paid_fen - part.refunded_fen == order.total_fen
        assert part.refunded_fen == (start - final) * q  # exact to the fen
    assert sum(p.refunded_fen for p in parts) + sum(o.total_fen for o in made.values()) \
        == captured
    assert chain.verify(session).ok
