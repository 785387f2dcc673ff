"""Donations: to the pool without a target, for a claimed need (directed), and a pledge's
monthly share; paid through the payment providers.

A donation starts pending; `capture` (the simulated provider captures at once; a provider's
confirmation would call it too) marks it paid, gives it a receipt number and, for the pool and
pledges, appends a pool entry. A capture that cannot be kept (the donation is no longer pending,
or the amount differs) is paid back through the provider that took it and recorded as its own
refunded donation, with the reason: money is never kept without a reason on record.
A paid pool donation can be given back by a platform admin (audited) while the pool holds it.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.audit import services as audit
from marketplace.core import policy
from marketplace.core.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.time import CHINA, now_utc
from marketplace.help.needs.models import Claim, ClaimStatus, NeedWhat
from marketplace.help.pool import chain, rules
from marketplace.help.pool.models import (
    Donation,
    DonationKind,
    DonationStatus,
    PoolEntryKind,
)
from marketplace.units.participations import pay_back

ONLINE = ("simulated",)  # providers a donation can be paid through now


def _provider(provider: str) -> str:
    if provider not in ONLINE:
        raise ValidationFailed("捐赠目前支持测试支付（simulated）", field="provider")
    return provider


def _amount(amount_fen) -> int:
    if not isinstance(amount_fen, int) or isinstance(amount_fen, bool):
        raise ValidationFailed("捐赠金额必须是以分为单位的整数", field="amount")
    problem = rules.donation_amount_problem(amount_fen)
    if problem:
        raise ValidationFailed(problem, field="amount")
    return amount_fen


def start(session: Session, donor: User | None, amount_fen: int, *,
          kind: DonationKind = DonationKind.pool, provider: str = "simulated",
          display_name: str = "", seller_id: int | None = None, pledge_id: int | None = None,
          pledge_month: int | None = None, now: datetime | None = None) -> Donation:
    """A pending donation (nothing paid yet)."""
    donation = Donation(kind=kind, donor_id=donor.id if donor is not None else None,
                        seller_id=seller_id, pledge_id=pledge_id, pledge_month=pledge_month,
                        amount_fen=_amount(amount_fen), provider=_provider(provider),
                        display_name=(display_name or "").strip()[:40],
                        status=DonationStatus.pending, created_at=now or now_utc())
    session.add(donation)
    session.flush()
    return donation


def capture(session: Session, donation: Donation, amount_fen: int, reference: str, *,
            providers: Mapping | None = None, now: datetime | None = None) -> Donation:
    """The provider took `amount_fen` for `donation` (its `reference`). Kept when the donation
    is pending and the amount is its own: paid, a receipt number, a pool entry (pool and
    pledge donations). Otherwise paid back at once and recorded: the answer is then the refunded
    record, never the donation."""
    now = now or now_utc()
    reason = None
    if amount_fen != donation.amount_fen:
        reason = Msg("到账金额 %(got)s 分与捐赠金额 %(want)s 分不符，已原路退回",
                     got=amount_fen, want=donation.amount_fen)
    else:
        marked = session.execute(
            update(Donation).where(Donation.id == donation.id,
                                   Donation.status == DonationStatus.pending)
            .values(status=DonationStatus.paid, paid_at=now, reference=reference[:64])
            .execution_options(synchronize_session=False)).rowcount
        if marked != 1:
            reason = Msg("捐赠 %(id)s 已经支付过，重复支付的款项已原路退回", id=donation.id)
    if reason is not None:
        return _unkept(session, donation, amount_fen, reference, str(reason), providers, now)
    session.refresh(donation)
    donation.receipt_no = rules.receipt_no(donation.id, now, CHINA)
    if donation.kind in (DonationKind.pool, DonationKind.pledge):
        chain.append(session, PoolEntryKind.donation, donation.amount_fen,
                     donation_id=donation.id, now=now)
    session.flush()
    return donation


def _unkept(session: Session, donation: Donation, amount_fen: int, reference: str,
            reason: str, providers: Mapping | None, now: datetime) -> Donation:
    """A capture that is not kept: paid back through its provider, recorded with the reason
    (status refunded; failed, and saying so, when the provider could not pay it back now)."""
    back = None
    if amount_fen > 0:
        back = pay_back(providers or {}, donation.provider, reference, amount_fen,
                        key=f"donation-unkept-{donation.id}-{reference}"[:64])
    record = Donation(kind=donation.kind, donor_id=donation.donor_id,
                      seller_id=donation.seller_id, pledge_id=donation.pledge_id,
                      pledge_month=donation.pledge_month, amount_fen=max(amount_fen, 1),
                      provider=donation.provider, reference=reference[:64],
                      display_name=donation.display_name, created_at=now, paid_at=now,
                      status=DonationStatus.refunded if back else DonationStatus.failed,
                      reason=(reason if back else reason + "；退款未能完成，待人工处理")[:200])
    session.add(record)
    session.flush()
    return record


def pay(session: Session, donor: User | None, donation: Donation, *,
        providers: Mapping | None = None, now: datetime | None = None) -> Donation:
    """Pay a pending donation through its provider (the simulated one captures at once)."""
    if donor is not None and donation.donor_id != donor.id:
        raise NotFound("未找到该捐赠")
    if donation.status != DonationStatus.pending:
        raise IllegalTransition(Msg("捐赠%(s)s，无需再付", s=Msg(donation.status_label)))
    return capture(session, donation, donation.amount_fen,
                   f"sim-donation-{donation.id}", providers=providers, now=now)


def donate(session: Session, donor: User, amount_fen: int, *, provider: str = "simulated",
           display_name: str = "", providers: Mapping | None = None,
           now: datetime | None = None) -> Donation:
    """A donation to the pool, started and paid (the simulated provider)."""
    policy.require_user(donor)
    now = now or now_utc()
    donation = start(session, donor, amount_fen, provider=provider,
                     display_name=display_name, now=now)
    return pay(session, donor, donation, providers=providers, now=now)


# ---- money for a claimed need (directed: not in the pool) -----------------------------------------

def claim_amount(session: Session, claim: Claim) -> int | None:
    """What a claim stands for in money: its part, or what its whole claim of an amount need
    covered (the need's amount less the other live claims' parts); None for goods and services."""
    if claim.amount_fen is not None:
        return claim.amount_fen
    need = claim.need
    if need.what != NeedWhat.amount or need.amount_fen is None:
        return None
    live = (ClaimStatus.held, ClaimStatus.delivered, ClaimStatus.confirmed)
    others = session.scalar(select(func.coalesce(func.sum(Claim.amount_fen), 0)).where(
        Claim.need_id == need.id, Claim.id != claim.id, Claim.status.in_(live))) or 0
    return max(0, need.amount_fen - int(others))


def pay_claim(session: Session, donor: User, claim: Claim, provider: str = "simulated",
              now: datetime | None = None, *, amount_fen: int | None = None,
              providers: Mapping | None = None) -> Donation:
    """Money `donor` gives for a need they claimed (kind claim, for the need's household, not in
    the pool ledger): paid through the provider, linked to the claim (`claim.donation_id`).
    `amount_fen` for a claim of goods or a service given as money; an amount claim pays its
    own amount. The caller records the delivery."""
    now = now or now_utc()
    if claim.donor_id != donor.id:
        raise NotFound("未找到该认领")
    if claim.status not in (ClaimStatus.held, ClaimStatus.delivered):
        raise IllegalTransition(Msg("认领%(s)s，不能再付款", s=Msg(claim.status_label)))
    if claim.donation_id is not None:
        earlier = session.get(Donation, claim.donation_id)
        if earlier is not None and earlier.status == DonationStatus.paid:
            raise Conflict("这项认领已经付过款", code="already_paid")
    owed = claim_amount(session, claim)
    if owed is None:
        owed = amount_fen
    elif amount_fen is not None and amount_fen != owed:
        raise ValidationFailed(Msg("应付金额为认领的 %(owed)s 分", owed=owed), field="amount")
    if not owed:
        raise ValidationFailed("请填写捐赠金额", field="amount")
    donation = start(session, donor, owed, kind=DonationKind.claim, provider=provider,
                     display_name=donor.display_name or "", now=now)
    claim.donation_id = donation.id
    return pay(session, donor, donation, providers=providers, now=now)


# ---- reading and giving back --------------------------------------------------------------------

def receipt(session: Session, user: User, donation_id: int) -> Donation:
    """A donation its donor sees (platform admins too); 404 for anyone else."""
    donation = session.get(Donation, donation_id)
    if donation is None or user is None or not getattr(user, "is_authenticated", False) \
            or (donation.donor_id != user.id and not policy.is_admin(user)):
        raise NotFound("未找到该捐赠")
    return donation


def of_donor(session: Session, user: User, limit: int = 50) -> list[Donation]:
    return list(session.scalars(select(Donation).where(Donation.donor_id == user.id)
                                .order_by(Donation.id.desc()).limit(limit)))


@dataclass(frozen=True)
class Given:
    donation: Donation
    reference: str | None  # the provider's refund id (None: still to be paid back)


def give_back(session: Session, actor: User, donation: Donation, reason: str, *,
              providers: Mapping | None = None, now: datetime | None = None) -> Given:
    """A platform admin gives a paid pool donation back (a donor's request, a mistake): out of
    the pool while it holds the money (the head locked), through the provider; audited."""
    policy.check_admin(actor)
    now = now or now_utc()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写退回原因", field="reason")
    if donation.kind not in (DonationKind.pool, DonationKind.pledge) \
            or donation.status != DonationStatus.paid:
        raise IllegalTransition("只有已到账的资金池捐赠可以退回")
    chain.lock(session)
    if chain.balance(session) < donation.amount_fen:
        raise RuleBroken("资金池余额不足以退回这笔捐赠（已拨付给需求）", code="pool_balance_low")
    marked = session.execute(
        update(Donation).where(Donation.id == donation.id,
                               Donation.status == DonationStatus.paid)
        .values(status=DonationStatus.refunded, reason=reason[:200])
        .execution_options(synchronize_session=False)).rowcount
    if marked != 1:
        raise IllegalTransition("捐赠刚刚发生变化，请刷新后重试")
    chain.append(session, PoolEntryKind.refund, -donation.amount_fen, donation_id=donation.id,
                 now=now)
    back = pay_back(providers or {}, donation.provider, donation.reference, donation.amount_fen,
                    key=f"donation-back-{donation.id}")
    session.refresh(donation)
    audit.record(session, actor, "donation_refunded", "donation", donation.id,
                 before={"status": "paid"}, after={"status": "refunded"}, note=reason)
    return Given(donation, back)
