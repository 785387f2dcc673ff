"""Demo data: the donation pool (爱心资金池) and a charity pledge (公益承诺), through the pool's
services. Donors give to the pool (simulated provider, with receipts); 洞口县's office allocates
to approved amount needs of its county (the needs demo's, when it left any open; otherwise two
are posted by the liaison and approved by the office through the needs services here); the tea
cooperative's staff pledge 2% of its paid turnover from three months ago and pay the months that
have ended. See /pool, /pool/allocate (office@demo.test) and /seller/pledges (seller@demo.test).

Loaded once: skipped when the pool already holds a donation."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.services import find_by_login
from marketplace.core.errors import DomainError
from marketplace.core.time import now_utc, today_china
from marketplace.help.needs import rules as need_rules
from marketplace.help.needs import services as needs
from marketplace.help.needs.models import Need, NeedStatus, NeedWhat
from marketplace.help.pool import allocations, chain, donations, pledges, rules
from marketplace.help.pool.models import Donation, DonationKind
from marketplace.households.models import Household
from marketplace.regions.models import Region
from marketplace.sellers.models import Seller

OFFICE, LIAISON, STAFF = "office@demo.test", "liaison@demo.test", "seller@demo.test"
VILLAGE = "430525101201"  # 洪溪村
# donor's login, amount (fen), the name published (empty: anonymous), days ago
GIFTS = [("buyer@demo.test", 50_000, "一位老师", 40), ("buyer2@demo.test", 100_000, "", 30),
         ("buyer@demo.test", 20_000, "一位老师", 12), ("unit@demo.test", 80_000, "洞口县机关工会", 6)]
# needs posted here when the needs demo left no open amount need: title, category, amount
NEEDS = [("女儿大学第一学年学费", "education", 300_000, "女儿今年考上湖南农业大学，家里凑不齐学费。"),
         ("养蜂扩群购买蜂箱", "production", 120_000, "想把蜂群从 10 箱扩到 20 箱，缺蜂箱钱。")]
# allocations: the share of each open amount need's remaining to cover (at most the balance)
SHARES = (0.5, 1.0)


def seed(session: Session, tally) -> None:
    office, liaison, staff = (find_by_login(session, login)
                              for login in (OFFICE, LIAISON, STAFF))
    if office is None:
        return
    if session.scalar(select(Donation.id).where(Donation.kind == DonationKind.pool)
                      .limit(1)) is not None:
        tally.skipped += 1
        return
    now = now_utc()
    for login, amount, name, days in GIFTS:
        donor = find_by_login(session, login)
        if donor is not None:
            donations.donate(session, donor, amount, display_name=name,
                             now=now - timedelta(days=days))
            tally.created += 1
    targets = allocations.open_amount_needs(session, office)[:len(SHARES)]
    if len(targets) < len(SHARES) and liaison is not None:
        targets += _post_needs(session, office, liaison, len(SHARES) - len(targets), now)
    for share, need in zip(SHARES, targets, strict=False):
        left = (need.amount_fen or 0) - need.claimed_fen
        amount = min(int(left * share), chain.balance(session))
        if amount > 0:
            allocations.allocate(session, office, need, amount, "资金池统筹拨付",
                                 now=now - timedelta(days=3))
            tally.created += 1
    if staff is not None and staff.seller_ids():
        _pledge(session, staff, now)
        tally.created += 1
    session.flush()


def _post_needs(session: Session, office, liaison, count: int, now) -> list[Need]:
    """Amount needs for 洪溪村's households, posted by their liaison and approved by the office
    (the needs services); made through the models only if those refuse (a posting limit)."""
    village = session.scalar(select(Region).where(Region.code == VILLAGE))
    households = list(session.scalars(select(Household).where(
        Household.liaison_id == liaison.id).order_by(Household.code)))
    if village is None or not households:
        return []
    out = []
    for index, (title, category, amount, text) in enumerate(NEEDS[:count]):
        at = now - timedelta(days=20 - 3 * index)
        household = households[(index + 1) % len(households)]
        try:
            with session.begin_nested():
                need = needs.post(session, liaison, household, need_rules.NeedInput(
                    category=category, title=title, what="amount", amount_fen=amount,
                    description=text, expires_on=(at + timedelta(days=90)).date()), now=at)
                needs.review(session, office, need, "approve", now=at + timedelta(hours=6))
        except DomainError:
            need = Need(household_id=household.id, village_id=household.village_id,
                        category=category, title=title, description=text,
                        what=NeedWhat.amount, amount_fen=amount, status=NeedStatus.open,
                        expires_on=(at + timedelta(days=90)).date(), posted_by_id=liaison.id,
                        posted_at=at, reviewed_by_id=office.id, reviewed_at=at,
                        approved_at=at)
            session.add(need)
            session.flush()
        out.append(need)
    return out


def _pledge(session: Session, staff, now) -> None:
    """2% of the seller's paid turnover from the first day of the month three months ago, for a
    year; the months that have ended and owe something are paid."""
    seller = session.get(Seller, min(staff.seller_ids()))
    today = today_china()
    first, _last = rules.month_bounds(rules.months_between(today - timedelta(days=92), today)[0])
    pledge = pledges.create(session, staff, seller, 200, first,
                            first.replace(year=first.year + 1) - timedelta(days=1),
                            "志愿者超市：营业额的 2% 捐入爱心资金池", now=now)
    for due in pledges.dues(session, pledge, today):
        if due.owing_fen > 0:
            pledges.pay_month(session, staff, pledge, due.month, now=now, today=today)
