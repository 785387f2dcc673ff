"""Claims of needs: a donor claims a need (whole, or part of an amount), which holds it for
HELP_CLAIM_HOLD_DAYS days; an undelivered claim lapses back to open (lazily on reads and by
`flask needs lapse`); the donor gives up or records delivery (goods, money through the payment
providers, a service); the household's liaison confirms receipt. The need is fulfilled when its
claims cover it and every live one is confirmed.

Claimed amounts change only through history.cover / history.uncover; every step is recorded."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.core import policy
from marketplace.core.errors import Conflict, IllegalTransition, NotFound, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.money import format_fen
from marketplace.core.time import now_utc
from marketplace.help.needs import history, rules, services
from marketplace.help.needs.models import (
    Claim,
    ClaimStatus,
    DeliveryKind,
    Need,
    NeedStatus,
    NeedWhat,
)

DELIVERY_LABELS = {DeliveryKind.goods: "物资", DeliveryKind.money: "资金（在线支付）",
                   DeliveryKind.service: "服务"}


def _locked_need(session: Session, need_id: int) -> Need:
    """The need, its row locked for the claim's change (PostgreSQL; SQLite has one writer)."""
    need = session.scalars(select(Need).where(Need.id == need_id).with_for_update()
                           .execution_options(populate_existing=True)).first()
    if need is None:
        raise NotFound("未找到该需求")
    return need


def _lapse(session: Session, claim: Claim, need: Need, now: datetime) -> None:
    claim.status = ClaimStatus.lapsed
    history.uncover(need, claim.amount_fen)
    history.record(session, need, "lapsed", None, claim_id=claim.id, now=now)


def lapse_due(session: Session, *, now: datetime | None = None) -> int:
    """Held claims past their time lapse, their part of the need open again (idempotent; safe
    when two processes run it: each need's row is locked and the claim re-read)."""
    now = now or now_utc()
    due = list(session.execute(select(Claim.id, Claim.need_id).where(
        Claim.status == ClaimStatus.held, Claim.held_until <= now).order_by(Claim.need_id)))
    done = 0
    for claim_id, need_id in due:
        need = _locked_need(session, need_id)
        claim = session.scalars(select(Claim).where(Claim.id == claim_id)
                                .execution_options(populate_existing=True)).first()
        if claim is not None and claim.status == ClaimStatus.held and claim.held_until <= now:
            _lapse(session, claim, need, now)
            done += 1
    if done:
        session.flush()
    return done


def tidy(session: Session, *, now: datetime | None = None) -> tuple[int, int]:
    """What reads do first and `flask needs lapse` does: lapse claims, expire needs."""
    now = now or now_utc()
    return lapse_due(session, now=now), services.expire_due(session, now=now)


def claim(session: Session, donor, need: Need, amount_fen: int | None = None, *,
          now: datetime | None = None) -> Claim:
    """`donor` claims `need` (an amount need: `amount_fen` of it, None for all that remains)."""
    now = now or now_utc()
    policy.require_user(donor)
    lapse_due(session, now=now)
    need = _locked_need(session, need.id)
    if need.status != NeedStatus.open:
        raise IllegalTransition(Msg("需求%(s)s，不能认领", s=Msg(need.status_label)),
                                code="not_open")
    if need.expires_on < services._today(now):
        raise IllegalTransition("该需求已过截止日期", code="not_open")
    if donor.id == need.posted_by_id or donor.id == need.household.liaison_id:
        raise Conflict("不能认领自己发布或负责的需求", code="own_need")
    if any(c.donor_id == donor.id and c.status == ClaimStatus.held for c in need.claims):
        raise Conflict("您已认领该需求，请先完成交付", code="already_claimed")
    share = rules.claim_share(need.what, need.amount_fen, need.claimed_fen, amount_fen)
    days = int(services.config("HELP_CLAIM_HOLD_DAYS", rules.CLAIM_HOLD_DAYS))
    row = Claim(need_id=need.id, donor_id=donor.id, amount_fen=share, status=ClaimStatus.held,
                held_until=rules.hold_until(now, days), created_at=now)
    session.add(row)
    session.flush()
    history.cover(need, share, now)
    history.record(session, need, "claimed", donor.id,
                   "" if share is None else Msg("认领 %(amount)s", amount=format_fen(share)),
                   claim_id=row.id, now=now)
    return row


def _own_claim(session: Session, donor, claim_id: int | Claim) -> Claim:
    row = claim_id if isinstance(claim_id, Claim) else session.get(Claim, claim_id)
    policy.require_user(donor)
    if row is None or row.donor_id != donor.id:
        raise NotFound("未找到该认领")
    return row


def give_up(session: Session, donor, claim_row: Claim, *, now: datetime | None = None) -> Claim:
    now = now or now_utc()
    row = _own_claim(session, donor, claim_row)
    need = _locked_need(session, row.need_id)
    if row.status != ClaimStatus.held:
        raise IllegalTransition(Msg("认领%(s)s，不能放弃", s=Msg(row.status_label)))
    row.status = ClaimStatus.withdrawn
    history.uncover(need, row.amount_fen)
    history.record(session, need, "withdrawn", donor.id, "认领人放弃认领", claim_id=row.id,
                   now=now)
    return row


def record_delivery(session: Session, donor, claim_row: Claim, kind: str, note: str = "", *,
                    provider: str = "simulated", now: datetime | None = None) -> Claim:
    """The donor says what was delivered: goods, a service, or money (paid now through the
    payment providers, for an amount need)."""
    now = now or now_utc()
    row = _own_claim(session, donor, claim_row)
    lapse_due(session, now=now)
    session.refresh(row)
    need = _locked_need(session, row.need_id)
    if row.status != ClaimStatus.held:
        raise IllegalTransition(Msg("认领%(s)s，不能再登记交付", s=Msg(row.status_label)),
                                code="not_held")
    try:
        kind = DeliveryKind(kind)
    except ValueError:
        raise ValidationFailed("请选择交付方式：物资（goods）、资金（money）或服务（service）",
                               field="kind") from None
    if kind == DeliveryKind.money and need.what != NeedWhat.amount:
        raise ValidationFailed("只有资金类需求可以在线付款", field="kind")
    if need.what == NeedWhat.amount and kind != DeliveryKind.money:
        raise ValidationFailed("资金类需求请通过在线付款交付", field="kind")
    note = rules.check_note(note)
    if kind == DeliveryKind.money:
        from marketplace.help.pool import donations  # the pool helper's module
        donation = donations.pay_claim(session, donor, row, provider=provider, now=now)
        row.donation_id = getattr(donation, "id", row.donation_id)
    row.status = ClaimStatus.delivered
    row.delivery_kind, row.delivery_note, row.delivered_at = str(kind), note, now
    history.record(session, need, "delivered", donor.id, note, claim_id=row.id, now=now)
    return row


def check_confirm(session: Session, user, claim_row: Claim | None) -> Claim:
    """The household's liaison (and platform admins) confirm receipt; 404 for anyone else."""
    policy.require_user(user)
    if claim_row is None:
        raise NotFound("未找到该认领")
    liaison_id = claim_row.need.household.liaison_id
    if not (policy.is_admin(user) or (liaison_id is not None and liaison_id == user.id)):
        raise NotFound("未找到该认领")
    return claim_row


def confirm(session: Session, user, claim_row: Claim, note: str = "", *,
            photo: bytes | None = None, now: datetime | None = None) -> Claim:
    now = now or now_utc()
    row = check_confirm(session, user, claim_row)
    need = _locked_need(session, row.need_id)
    if row.status != ClaimStatus.delivered:
        raise IllegalTransition(Msg("认领%(s)s，不能确认收到", s=Msg(row.status_label)),
                                code="not_delivered")
    row.confirm_note = rules.check_note(note)
    row.confirm_photo = services._store_photo(session, photo)
    row.status = ClaimStatus.confirmed
    row.confirmed_by_id, row.confirmed_at = user.id, now
    history.record(session, need, "confirmed", user.id, row.confirm_note, claim_id=row.id,
                   now=now)
    session.flush()
    live = [c for c in need.claims if c.status in services.LIVE_CLAIMS]
    if need.status == NeedStatus.claimed and all(c.status == ClaimStatus.confirmed
                                                 for c in live):
        need.status = NeedStatus.fulfilled
        need.fulfilled_at = now
        history.record(session, need, "fulfilled", user.id, now=now)
    return row


def donor_claims(session: Session, donor, *, limit: int = 100) -> list[Claim]:
    policy.require_user(donor)
    return list(session.scalars(select(Claim).where(Claim.donor_id == donor.id)
                                .order_by(Claim.created_at.desc(), Claim.id.desc())
                                .limit(limit)))


def awaiting_confirmation(session: Session, liaison) -> list[Claim]:
    """Delivered claims of the liaison's households, waiting for receipt to be confirmed."""
    from marketplace.households.models import Household
    policy.require_user(liaison)
    return list(session.scalars(
        select(Claim).join(Need, Claim.need_id == Need.id)
        .join(Household, Need.household_id == Household.id)
        .where(Household.liaison_id == liaison.id, Claim.status == ClaimStatus.delivered)
        .order_by(Claim.delivered_at, Claim.id)))
