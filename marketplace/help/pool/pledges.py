"""Charity pledges (公益承诺): a seller gives a share of its paid turnover to the pool.

Seller staff pledge `share_bp` of the seller's paid sales net of refunds for a period. What is
due is computed month by month from the `sales_days` pre-aggregate (the seller's goods sold and
refunded on the China days of the month that lie in the period), `rules.pledge_due_fen`
(rounded half up). A month can be paid once it has ended: what is due less what was paid for it
already (a later refund may lower the due below what was paid: nothing more is owed then).
Paying is a pledge donation into the pool. The public page shows pledged against paid.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from marketplace.accounts.models import User
from marketplace.core import policy
from marketplace.core.errors import NotFound, RuleBroken, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc, today_china
from marketplace.help.pool import donations, rules
from marketplace.help.pool.models import (
    Donation,
    DonationKind,
    DonationStatus,
    Pledge,
    PledgeStatus,
)
from marketplace.ledger.models import SalesDay
from marketplace.sellers.models import Seller

MAX_DAYS = 366 * 5  # a pledge runs at most five years


def create(session: Session, actor: User, seller: Seller, share_bp: int, starts_on: date,
           ends_on: date, note: str = "", *, now: datetime | None = None) -> Pledge:
    """A seller's pledge (its staff, or a platform admin); overlapping an active one is refused."""
    policy.check_manage_seller(actor, seller)
    errors: dict[str, list[str]] = {}
    if not isinstance(share_bp, int) or isinstance(share_bp, bool) or not 0 < share_bp <= 10_000:
        errors["share"] = ["承诺比例应在 0.01% 到 100% 之间"]
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        errors["starts_on"] = ["请填写承诺期间"]
    elif ends_on < starts_on:
        errors["ends_on"] = ["结束日期不能早于开始日期"]
    elif (ends_on - starts_on).days > MAX_DAYS:
        errors["ends_on"] = ["承诺期间最长五年"]
    if errors:
        first = next(iter(errors))
        raise ValidationFailed(errors[first][0], errors=errors)
    overlapping = session.scalar(select(Pledge.id).where(
        Pledge.seller_id == seller.id, Pledge.status == PledgeStatus.active,
        Pledge.starts_on <= ends_on, Pledge.ends_on >= starts_on).limit(1))
    if overlapping is not None:
        raise RuleBroken("这段期间已有履行中的公益承诺", code="pledge_overlaps")
    pledge = Pledge(seller_id=seller.id, share_bp=share_bp, starts_on=starts_on, ends_on=ends_on,
                    note=(note or "").strip()[:200], created_by_id=actor.id,
                    status=PledgeStatus.active, created_at=now or now_utc())
    session.add(pledge)
    session.flush()
    return pledge


def of_seller(session: Session, seller_id: int) -> list[Pledge]:
    return list(session.scalars(select(Pledge).where(Pledge.seller_id == seller_id)
                                .order_by(Pledge.starts_on.desc(), Pledge.id.desc())))


def managed(session: Session, actor: User, pledge_id: int) -> Pledge:
    """A pledge its seller's staff (or a platform admin) manage; 404 for anyone else."""
    pledge = session.get(Pledge, pledge_id)
    if pledge is None or not (policy.is_admin(actor) or policy.staff_of(actor, pledge.seller_id)):
        raise NotFound("未找到该公益承诺")
    return pledge


@dataclass(frozen=True)
class MonthDue:
    month: int  # 202611
    net_fen: int  # paid goods less refunds on the month's days within the period
    due_fen: int
    paid_fen: int
    ended: bool  # the month (within the period) is over: it can be paid

    @property
    def owing_fen(self) -> int:
        return max(0, self.due_fen - self.paid_fen) if self.ended else 0

    @property
    def label(self) -> str:
        return rules.month_label(self.month)


def dues(session: Session, pledge: Pledge, today: date | None = None) -> list[MonthDue]:
    """The pledge's months up to today's, each with its net turnover, due and paid."""
    today = today or today_china()
    last = min(pledge.ends_on, today)
    months = rules.months_between(pledge.starts_on, last)
    if not months:
        return []
    net = dict(session.execute(
        select(SalesDay.month, func.sum(SalesDay.sales_fen - SalesDay.refunds_fen))
        .where(SalesDay.seller_id == pledge.seller_id, SalesDay.day >= pledge.starts_on,
               SalesDay.day <= last).group_by(SalesDay.month)).all())
    paid = paid_by_month(session, pledge.id)
    out = []
    for month in months:
        _first, month_last = rules.month_bounds(month)
        amount = int(net.get(month) or 0)
        out.append(MonthDue(month, amount, rules.pledge_due_fen(amount, pledge.share_bp),
                            paid.get(month, 0), min(month_last, pledge.ends_on) < today))
    return out


def paid_by_month(session: Session, pledge_id: int) -> dict[int, int]:
    return {m: int(s) for m, s in session.execute(
        select(Donation.pledge_month, func.sum(Donation.amount_fen))
        .where(Donation.pledge_id == pledge_id, Donation.kind == DonationKind.pledge,
               Donation.status == DonationStatus.paid).group_by(Donation.pledge_month))}


def pay_month(session: Session, actor: User, pledge: Pledge, month: int, *,
              provider: str = "simulated", providers: Mapping | None = None,
              now: datetime | None = None, today: date | None = None) -> Donation:
    """Pay what a month owes: a pledge donation into the pool (the pledge's row locked, so a
    month is not paid twice at once)."""
    now = now or now_utc()
    pledge = managed(session, actor, pledge.id)
    session.execute(select(Pledge.id).where(Pledge.id == pledge.id).with_for_update())
    if pledge.status == PledgeStatus.cancelled:
        raise RuleBroken("该公益承诺已撤销", code="pledge_cancelled")
    due = next((d for d in dues(session, pledge, today) if d.month == month), None)
    if due is None:
        raise ValidationFailed(Msg("%(month)s 不在承诺期间内", month=rules.month_label(month)
                                   if isinstance(month, int) else str(month)[:10]),
                               field="month")
    if not due.ended:
        raise RuleBroken(Msg("%(month)s 尚未结束，月底后再支付", month=due.label),
                         code="month_not_ended")
    if due.owing_fen <= 0:
        raise RuleBroken(Msg("%(month)s 没有待付的承诺款", month=due.label), code="nothing_due")
    donation = donations.start(session, actor, due.owing_fen, kind=DonationKind.pledge,
                               provider=provider, display_name=pledge.seller.name,
                               seller_id=pledge.seller_id, pledge_id=pledge.id,
                               pledge_month=month, now=now)
    return donations.pay(session, actor, donation, providers=providers, now=now)


def end(session: Session, actor: User, pledge: Pledge) -> Pledge:
    """Cancel an active pledge (what is already paid stays in the pool)."""
    pledge = managed(session, actor, pledge.id)
    if pledge.status != PledgeStatus.active:
        raise RuleBroken("只能撤销履行中的公益承诺", code="pledge_not_active")
    pledge.status = PledgeStatus.cancelled
    session.flush()
    return pledge


@dataclass(frozen=True)
class PublicPledge:
    seller: str
    share_bp: int
    starts_on: date
    ends_on: date
    status: str
    pledged_fen: int  # due for the months that have ended
    paid_fen: int

    @property
    def share_text(self) -> str:
        return f"{self.share_bp / 100:g}%"


def published(session: Session, today: date | None = None, limit: int = 50) -> list[PublicPledge]:
    """Every pledge that is not cancelled, with what its ended months made due and what was
    paid (newest first)."""
    today = today or today_china()
    pledges = session.scalars(select(Pledge).options(joinedload(Pledge.seller))
                              .where(Pledge.status != PledgeStatus.cancelled)
                              .order_by(Pledge.id.desc()).limit(limit))
    out = []
    for pledge in pledges:
        months = dues(session, pledge, today)
        out.append(PublicPledge(pledge.seller.name, pledge.share_bp, pledge.starts_on,
                                pledge.ends_on, str(pledge.status),
                                sum(d.due_fen for d in months if d.ended),
                                sum(d.paid_fen for d in months)))
    return out

