"""Posting households' income when a payment is captured and taking it back on refunds, on
SQLite and PostgreSQL: exact parts, exactly once, never below zero, and a chain that verifies."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from marketplace.ledger import chain as ledger
from marketplace.ledger.chain import NewEntry
from marketplace.ledger.models import LedgerEntry
from marketplace.orders import services as orders
from marketplace.orders.models import OrderLine
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import refunds
from marketplace.payments.capture import record_payment
from marketplace.sellers.models import SellerKind
from tests.fixtures.factories import (
    DELIVERY,
    make_cooperative,
    make_household,
    make_product,
    make_seller,
    make_user,
)


def paid(session, buyer, lines, key, reference=None):
    order, = orders.checkout(session, buyer, [LineInput(p.id, q) for p, q in lines],
                             AddressInput(**DELIVERY), idempotency_key=key)
    record_payment(session, order, provider="simulated",
                          reference=reference or f"sim-{order.id}",
                          amount_fen=order.total_fen, currency="CNY")
    session.commit()
    return order


def by_household(session, line_id=None) -> dict[int, int]:
    query = select(LedgerEntry.household_id, func.sum(LedgerEntry.amount_fen)) \
        .group_by(LedgerEntry.household_id)
    if line_id is not None:
        query = query.where(LedgerEntry.order_line_id == line_id)
    return {h: int(a) for h, a in session.execute(query).all()}


@pytest.fixture
def coop(session):
    seller, households = make_cooperative(session, first=700)
    tea = make_product(session, seller, name="合作社云雾茶", price_fen=4999, stock=100)
    tea.household_share_bp = 3333  # the product's own share wins over the seller's
    rice = make_product(session, seller, name="合作社红米", price_fen=1001, stock=100)
    session.commit()
    return {"households": [h.id for h in households], "tea": tea, "rice": rice,
            "buyer": make_user(session, "buyer"), "admin": make_user(session, "platform_admin")}


def test_a_household_shop_gives_its_household_the_share(session):
    household = make_household(session, n=650)
    shop = make_seller(session, kind=SellerKind.household_shop, household=household)
    shop.household_share_bp = 10000
    eggs = make_product(session, shop, name="土鸡蛋", price_fen=3600, stock=10)
    order = paid(session, make_user(session, "buyer"), [(eggs, 2)], "attr-shop-1")
    assert by_household(session) == {household.id: 7200}
    line = session.scalar(select(OrderLine).where(OrderLine.order_id == order.id))
    assert (line.share_bp, line.attributable_fen) == (10000, 7200)
    assert ledger.verify(session).ok


def test_a_cooperative_splits_each_line_exactly_by_member_weight(session, coop):
    order = paid(session, coop["buyer"], [(coop["tea"], 3), (coop["rice"], 7)], "attr-coop-1")
    lines = {ln.product_id: ln for ln in session.scalars(
        select(OrderLine).where(OrderLine.order_id == order.id))}
    tea, rice = lines[coop["tea"].id], lines[coop["rice"].id]
    assert (tea.share_bp, tea.attributable_fen) == (3333, 14997 * 3333 // 10000)
    assert (rice.share_bp, rice.attributable_fen) == (1000, 7007 * 1000 // 10000)
    for line in (tea, rice):
        parts = by_household(session, line.id)
        assert sum(parts.values()) == line.attributable_fen
        h1, h2, h3 = (parts.get(h, 0) for h in coop["households"])
        assert h1 <= h2 <= h3 and abs(h3 - 3 * h1) <= 3  # by weight 1:2:3, within rounding


def test_a_payment_confirmed_again_is_posted_once(session, coop):
    order = paid(session, coop["buyer"], [(coop["tea"], 1)], "attr-coop-2", reference="cs_1")
    count = session.scalar(select(func.count()).select_from(LedgerEntry))
    outcome = record_payment(session, order, provider="simulated", reference="cs_1",
                                    amount_fen=order.total_fen, currency="CNY")
    session.commit()
    assert outcome.duplicate
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == count == 3


def test_partial_then_full_refunds_take_everything_back_exactly(session, coop):
    order = paid(session, coop["buyer"], [(coop["tea"], 3), (coop["rice"], 7)], "attr-coop-3")
    given = by_household(session)
    first = refunds.refund(session, coop["admin"], order, amount_fen=order.paid_fen // 3)
    session.commit()
    after_first = by_household(session)
    assert all(0 <= after_first[h] <= given[h] for h in given)
    for line in order.lines:  # each line's reversals reach floor(attributable x refunded / paid)
        reversed_ = line.attributable_fen - sum(by_household(session, line.id).values())
        assert reversed_ == line.attributable_fen * first.amount_fen // order.goods_fen
    refunds.refund(session, coop["admin"], order)  # the rest
    session.commit()
    assert by_household(session) == {h: 0 for h in given}
    assert session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.kind == "reversal")) > 0
    assert ledger.verify(session).ok


def test_money_back_for_the_goods_never_stays_attributed_when_shipping_is_kept(session, coop):
    """Refunds count against the goods first: giving back the goods' price and keeping the
    shipping takes everything back; refunding the shipping too adds nothing more."""
    seller = coop["tea"].seller
    seller.shipping_fee_fen = 1000
    session.commit()
    order = paid(session, coop["buyer"], [(coop["tea"], 2)], "attr-ship-1")
    assert (order.goods_fen, order.shipping_fen, order.paid_fen) == (9998, 1000, 10998)
    line = order.lines[0]
    refunds.refund(session, coop["admin"], order, amount_fen=4999)  # half the goods
    session.commit()
    assert sum(by_household(session, line.id).values()) == \
        line.attributable_fen - line.attributable_fen * 4999 // 9998
    refunds.refund(session, coop["admin"], order, amount_fen=4999)  # the rest of the goods
    session.commit()
    assert sum(by_household(session, line.id).values()) == 0
    reversals = session.scalar(select(func.count()).select_from(LedgerEntry)
                               .where(LedgerEntry.kind == "reversal"))
    refunds.refund(session, coop["admin"], order)  # the shipping
    session.commit()
    assert session.scalar(select(func.count()).select_from(LedgerEntry)
                          .where(LedgerEntry.kind == "reversal")) == reversals
    assert ledger.verify(session).ok


def test_an_enterprise_without_supply_lots_attributes_nothing(session):
    firm = make_seller(session, kind=SellerKind.enterprise)
    firm.household_share_bp = 2000
    oil = make_product(session, firm, name="茶油", price_fen=8800, stock=5)
    order = paid(session, make_user(session, "buyer"), [(oil, 1)], "attr-firm-1")
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 0
    assert (order.lines[0].share_bp, order.lines[0].attributable_fen) == (2000, 0)
    assert ledger.verify(session).ok


def test_an_order_shows_whom_it_helped_and_a_buyer_all_they_helped(session, coop):
    from marketplace.ledger.impact import buyer_impact, order_impact
    order = paid(session, coop["buyer"], [(coop["tea"], 3), (coop["rice"], 7)], "attr-coop-4")
    impact = order_impact(session, order)
    assert impact.attributable_fen == sum(ln.attributable_fen for ln in order.lines)
    assert len(impact.households) == 3
    assert all("*" in h.masked_name and h.village.endswith("村") for h in impact.households)
    assert [h.amount_fen for h in impact.households] == sorted(
        (h.amount_fen for h in impact.households), reverse=True)
    mine = buyer_impact(session, coop["buyer"].id)
    assert (mine.orders, mine.households, mine.amount_fen) == (1, 3, impact.attributable_fen)
    assert [(c.households, c.amount_fen) for c in mine.counties] == [(3, mine.amount_fen)]
    assert mine.counties[0].county.endswith("县")
    refunds.refund(session, coop["admin"], order)
    session.commit()
    assert order_impact(session, order).households == []
    assert buyer_impact(session, coop["buyer"].id).households == 0


def test_verify_checks_what_the_lines_imply(session, coop, app):
    order = paid(session, coop["buyer"], [(coop["tea"], 3), (coop["rice"], 7)], "attr-coop-5")
    refunds.refund(session, coop["admin"], order, amount_fen=order.paid_fen // 2)
    session.commit()
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0 and "台账完好" in result.output
    line = order.lines[0]
    extra, = ledger.append(session, [NewEntry(coop["households"][0], line.id, 1)])
    session.commit()  # a well-chained entry that no payment or refund implies
    verdict = ledger.verify(session)
    assert (verdict.ok, verdict.seq) == (False, extra.seq)
    assert f"订单行 {line.id}" in verdict.problem
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 1 and f"第 {extra.seq} 条" in result.output


def test_a_households_statement_by_month_with_running_totals(session, coop):
    from marketplace.ledger.statements import household_statement, statement_csv
    order = paid(session, coop["buyer"], [(coop["tea"], 3), (coop["rice"], 7)], "attr-coop-6")
    refunds.refund(session, coop["admin"], order, amount_fen=order.paid_fen // 2)
    session.commit()
    household = coop["households"][2]
    statement = household_statement(session, household)
    rows = [r for m in statement.months for r in m.rows]
    assert len(statement.months) == 1 and len(rows) == 4  # two sales, two reversals
    assert [r.amount_fen > 0 for r in rows] == [True, True, False, False]
    running = 0
    for r in rows:
        running += r.amount_fen
        assert r.running_fen == running and r.channel == "individual"
        assert r.order_number == order.number and r.product in ("合作社云雾茶", "合作社红米")
    assert statement.total_fen == by_household(session)[household]
    text = statement_csv(statement)
    assert text.startswith("\ufeff月份,时间,订单号,商品,渠道,金额（元）,累计（元）")
    assert "个人购买" in text and text.count("\n") == 5


def test_one_confirmation_delivered_8_times_at_once_posts_once(app, session, coop):
    from marketplace.extensions import db
    from marketplace.orders.models import Order
    from tests.fixtures.concurrency import run_at_once
    order, = orders.checkout(session, coop["buyer"], [LineInput(coop["tea"].id, 2)],
                             AddressInput(**DELIVERY), idempotency_key="attr-conc-1")
    order_id, total = order.id, order.total_fen
    session.commit()

    def confirm(_i: int) -> str:
        outcome = record_payment(db.session, db.session.get(Order, order_id),
                                        provider="stripe", reference="cs_conc",
                                        amount_fen=total, currency="CNY")
        return "duplicate" if outcome.duplicate else "paid"

    results = run_at_once(app, 8, confirm)
    assert sorted(results) == ["duplicate"] * 7 + ["paid"], results
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 3  # 3 members, once
    line = session.scalar(select(OrderLine).where(OrderLine.order_id == order_id))
    assert sum(by_household(session, line.id).values()) == line.attributable_fen
    assert ledger.verify(session).ok


def test_attributed_income_by_household_and_by_township_within_an_office(session):
    """What the list pages show: each household's holding, and the sum under an office's
    subtrees by township; a household given everything back is not counted."""
    from marketplace.ledger import income
    from tests.fixtures.factories import region

    here = [make_household(session, n=660 + i) for i in range(2)]  # 洞口县 月溪镇 洪溪村
    there = make_household(session, n=662, village_code="431224210201")  # 溆浦县 舒溶溪乡
    seller = make_seller(session, members=[(here[0], 1), (here[1], 1), (there, 2)])
    seller.household_share_bp = 10000
    jam = make_product(session, seller, name="合作社果酱", price_fen=1000, stock=20)
    buyer, admin = make_user(session, "buyer"), make_user(session, "platform_admin")
    paid(session, buyer, [(jam, 1)], "income-1")  # 250, 250, 500
    refunded = paid(session, buyer, [(jam, 1)], "income-2")
    refunds.refund(session, admin, refunded)
    session.commit()
    assert income.by_household(session, [here[0].id, here[1].id, there.id, 999_999]) == {
        here[0].id: 250, here[1].id: 250, there.id: 500}
    assert income.by_household(session, []) == {}
    dongkou = income.in_regions(session, [region(session, "430525")])
    assert (dongkou.total_fen, dongkou.households, dongkou.by_township) == (
        500, 2, {"430525101": 500})
    everywhere = income.in_regions(session, None)
    assert (everywhere.total_fen, everywhere.households) == (1000, 3)
    assert everywhere.by_township == {"430525101": 500, "431224210": 500}
    assert income.in_regions(session, []).total_fen == 0
    refunds.refund(session, admin, paid(session, buyer, [(jam, 2)], "income-3"))
    session.commit()
    assert income.in_regions(session, None).households == 3  # a full refund adds nobody
