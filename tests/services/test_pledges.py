"""Charity pledges: a seller's share of its paid turnover net of refunds, month by month, paid
into the pool as pledge donations; pledged against paid, published."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.core.errors import NotFound, RuleBroken, ValidationFailed
from marketplace.help.pool import chain, pledges
from marketplace.help.pool.models import DonationKind, DonationStatus, PoolEntry
from marketplace.ledger.models import SalesDay
from tests.fixtures.factories import make_seller, make_user

TODAY = date(2027, 1, 10)


def sold(session, seller, day, sales, refunds=0, channel="individual", category=1):
    session.add(SalesDay(day=day, seller_id=seller.id, channel=channel, category_id=category,
                         seller_kind=str(seller.kind), month=day.year * 100 + day.month,
                         sales_fen=sales, refunds_fen=refunds, orders=1))
    session.flush()


@pytest.fixture
def shop(session):
    seller = make_seller(session, name="爱心超市")
    staff = make_user(session, Role.seller_staff, seller=seller)
    other = make_user(session, Role.seller_staff, seller=make_seller(session))
    session.commit()
    return {"seller": seller, "staff": staff, "other": other}


def test_dues_month_by_month_net_of_refunds(session, shop):
    seller = shop["seller"]
    pledge = pledges.create(session, shop["staff"], seller, 200, date(2026, 11, 15),
                            date(2027, 6, 30), "志愿超市营业额的 2%")
    sold(session, seller, date(2026, 11, 14), 99_999)  # before the period
    sold(session, seller, date(2026, 11, 20), 100_000, 10_000)
    sold(session, seller, date(2026, 11, 20), 25_025, channel="unit_member")
    sold(session, seller, date(2026, 12, 3), 5_000, 8_000)  # refunds beyond sales
    sold(session, seller, date(2027, 1, 5), 50_000)
    session.commit()
    months = pledges.dues(session, pledge, TODAY)
    assert [(m.month, m.net_fen, m.due_fen, m.ended) for m in months] == [
        (202611, 115_025, 2_301, True),  # 2300.5 rounds half up
        (202612, -3_000, 0, True),
        (202701, 50_000, 1_000, False)]
    assert [m.owing_fen for m in months] == [2_301, 0, 0]


def test_paying_a_month_is_a_pledge_donation_into_the_pool(session, shop):
    seller = shop["seller"]
    pledge = pledges.create(session, shop["staff"], seller, 200, date(2026, 11, 1),
                            date(2027, 10, 31))
    sold(session, seller, date(2026, 11, 20), 100_000)
    session.commit()
    donation = pledges.pay_month(session, shop["staff"], pledge, 202611, today=TODAY)
    session.commit()
    assert (donation.kind, donation.status, donation.amount_fen, donation.pledge_month,
            donation.seller_id) == (DonationKind.pledge, DonationStatus.paid, 2_000, 202611,
                                    seller.id)
    assert donation.display_name == "爱心超市" and donation.receipt_no
    entry = session.scalar(select(PoolEntry))
    assert entry.donation_id == donation.id and entry.amount_fen == 2_000
    with pytest.raises(RuleBroken, match="没有待付"):
        pledges.pay_month(session, shop["staff"], pledge, 202611, today=TODAY)
    session.rollback()
    sold(session, seller, date(2026, 11, 28), 50_000)  # a late row: more is due
    session.commit()
    again = pledges.pay_month(session, shop["staff"], pledge, 202611, today=TODAY)
    assert again.amount_fen == 1_000
    with pytest.raises(RuleBroken, match="尚未结束"):
        pledges.pay_month(session, shop["staff"], pledge, 202701, today=TODAY)
    with pytest.raises(ValidationFailed):
        pledges.pay_month(session, shop["staff"], pledge, 202801, today=TODAY)
    with pytest.raises(NotFound):
        pledges.pay_month(session, shop["other"], pledge, 202611, today=TODAY)
    session.commit()
    public = pledges.published(session, TODAY)
    assert [(p.seller, p.share_text, p.pledged_fen, p.paid_fen) for p in public] == [
        ("爱心超市", "2%", 3_000, 3_000)]
    assert chain.verify(session).ok


def test_pledges_are_checked(session, shop):
    seller = shop["seller"]
    with pytest.raises(NotFound):
        pledges.create(session, shop["other"], seller, 200, date(2026, 1, 1), date(2026, 12, 31))
    with pytest.raises(ValidationFailed) as err:
        pledges.create(session, shop["staff"], seller, 0, date(2026, 1, 1), date(2026, 12, 31))
    assert "share" in err.value.errors
    with pytest.raises(ValidationFailed) as err:
        pledges.create(session, shop["staff"], seller, 200, date(2026, 2, 1), date(2026, 1, 1))
    assert "ends_on" in err.value.errors
    with pytest.raises(ValidationFailed):
        pledges.create(session, shop["staff"], seller, 200, date(2026, 1, 1), date(2036, 1, 1))
    pledge = pledges.create(session, shop["staff"], seller, 150, date(2026, 1, 1),
                            date(2026, 12, 31))
    with pytest.raises(RuleBroken, match="已有"):
        pledges.create(session, shop["staff"], seller, 200, date(2026, 6, 1), date(2027, 5, 31))
    pledges.end(session, shop["staff"], pledge)
    assert pledges.create(session, shop["staff"], seller, 200, date(2026, 6, 1),
                          date(2027, 5, 31)).id
    with pytest.raises(RuleBroken):
        pledges.pay_month(session, shop["staff"], pledge, 202601, today=TODAY)
    assert pledges.published(session, TODAY)[0].share_text == "2%"
