"""Taking part in a group purchase: joining (quantities that hold stock), paying, changing and
withdrawing until the deadline, and money going back.

Units are held like an order's (`orders.services.reserve_units`: free to held, products in id
order, every short line named), so a campaign never oversells across campaigns and ordinary
orders. Individual participants pay at the starting price when they join (a window to pay,
after which the units go back); a consolidated campaign's participants only commit quantities
and the unit pays one order after the close. What counts toward the tiers and the minimum is
the committed quantity: joined participations (paid ones, for individual delivery).

A joined individual participation always holds exactly one captured payment equal to what it
is due: a change that costs more refunds the old payment and captures the new amount, one that
costs less gives the difference back at once. Money goes back through the provider that took
it; a refund the provider could not make stays on the participation (`refund_due_fen`) and
`flask campaigns close-due` tries it again.

Joins, changes and withdrawals take the campaign's row first, shared (SELECT ... FOR SHARE, only
while it is open and before its deadline), so they run side by side; closing takes it with an
UPDATE, which waits for them: a join either commits before the close reads the participations
or finds the campaign closed.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.core import policy
from marketplace.core.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.orders import services as orders
from marketplace.orders.services import AddressInput, LineInput
from marketplace.regions.models import address_name
from marketplace.units import rules
from marketplace.units.campaigns import can_join, starting_prices
from marketplace.units.models import (
    HOLDING,
    Campaign,
    CampaignStatus,
    Delivery,
    Participation,
    ParticipationLine,
    ParticipationPayment,
    ParticipationPaymentStatus,
    ParticipationStatus,
)

PAYMENT_WINDOW = timedelta(minutes=30)


# ---- joining ------------------------------------------------------------------------------------

def _take_open(session: Session, campaign: Campaign, now: datetime) -> None:
    """The campaign's row, shared, only while it takes participants (see the module): joins
    hold it together (FOR SHARE on PostgreSQL; SQLite's writers queue anyway), a closer's
    UPDATE waits until they have committed, and a join that waited for a closer finds the
    campaign closed."""
    if now < campaign.starts_at:
        raise RuleBroken("团购尚未开始", code="campaign_not_started")
    row = session.execute(
        select(Campaign.status, Campaign.closed_at, Campaign.deadline)
        .where(Campaign.id == campaign.id).with_for_update(read=True)).first()
    if row is None or row.status != CampaignStatus.open or row.closed_at is not None \
            or row.deadline <= now:
        raise RuleBroken("团购已截止，不能再参团或修改", code="campaign_closed")


def _quantities(campaign: Campaign, lines: Sequence[LineInput]) -> dict[int, int]:
    offered = {cp.product_id for cp in campaign.products}
    out: dict[int, int] = {}
    if not lines:
        raise ValidationFailed("请填写参团数量", field="lines")
    for line in lines:
        if line.product_id not in offered:
            raise ValidationFailed("该商品不在本次团购中", field="lines",
                                   details={"product_id": line.product_id})
        if not isinstance(line.quantity, int) or isinstance(line.quantity, bool) \
                or line.quantity < 0:
            raise ValidationFailed("参团数量必须是正整数", field="lines")
        out[line.product_id] = out.get(line.product_id, 0) + line.quantity
    out = {pid: q for pid, q in out.items() if q}
    if not out:
        raise ValidationFailed("参团数量必须是正整数", field="lines")
    if sum(out.values()) > campaign.per_person_limit:
        raise RuleBroken(Msg("每人最多参团 %(n)s 件", n=campaign.per_person_limit),
                         field="lines", code="over_limit",
                         details={"per_person_limit": campaign.per_person_limit})
    return out


def active_participation(session: Session, campaign_id: int, user_id: int) -> Participation | None:
    return session.scalar(select(Participation).where(
        Participation.campaign_id == campaign_id, Participation.user_id == user_id,
        Participation.status.in_(HOLDING)))


def join(session: Session, user: User, campaign: Campaign, lines: Sequence[LineInput],
         address: AddressInput | None, *, idempotency_key: str, now: datetime | None = None,
         window: timedelta = PAYMENT_WINDOW) -> Participation:
    """Commit quantities to a campaign: its units held; individual delivery waits for payment
    at the starting price until the window ends (never past the deadline). The same key again
    answers the participation made the first time."""
    policy.require_user(user)
    now = now or now_utc()
    key = (idempotency_key or "").strip()
    if not 8 <= len(key) <= 64:
        raise ValidationFailed("缺少提交编号（idempotency_key，8–64 个字符）",
                               field="idempotency_key")
    same = session.scalar(select(Participation).where(
        Participation.campaign_id == campaign.id, Participation.user_id == user.id,
        Participation.idempotency_key == key))
    if same is not None:
        return same
    if not can_join(session, user, campaign):
        raise NotFound("未找到该团购")
    quantities = _quantities(campaign, lines)
    fields, region = {}, None
    if campaign.delivery == Delivery.individual:
        if address is None:
            raise ValidationFailed("请填写收货地址", field="address")
        fields, region = orders.clean_address(session, address)
    _take_open(session, campaign, now)
    expire_unpaid(session, campaign.id, now=now)
    if active_participation(session, campaign.id, user.id) is not None:
        raise Conflict("您已参加这个团购，可以修改数量或退出", code="already_joined")
    names = {cp.product_id: cp.product.name for cp in campaign.products}
    orders.reserve_units(session, quantities, names, now)
    individual = campaign.delivery == Delivery.individual
    part = Participation(
        campaign_id=campaign.id, user_id=user.id, idempotency_key=key,
        status=ParticipationStatus.pending_payment if individual else ParticipationStatus.joined,
        amount_due_fen=rules.amount_fen(starting_prices(campaign), quantities) if individual
        else 0,
        pay_by=min(now + window, campaign.deadline) if individual else None,
        created_at=now, updated_at=now,
        lines=[ParticipationLine(product_id=pid, quantity=q)
               for pid, q in sorted(quantities.items())])
    if region is not None:
        part.recipient, part.mobile = fields["recipient"], fields["mobile"]
        part.address_detail, part.region_id = fields["address_detail"], region.id
        part.region_names = address_name(region.name_path)
    try:
        with session.begin_nested():
            session.add(part)
            session.flush()
    except IntegrityError:  # the same key from a concurrent request
        raise Conflict("该提交正在处理，请稍后刷新", field="idempotency_key") from None
    return part


# ---- paying, changing, withdrawing --------------------------------------------------------------

def pay(session: Session, user: User, part: Participation, providers: Mapping, *,
        provider: str = "simulated", now: datetime | None = None) -> ParticipationPayment:
    """Pay what a participation is due (the simulated provider captures at once)."""
    now = now or now_utc()
    if part.user_id != user.id:
        raise NotFound("未找到该参团记录")
    if provider != "simulated" or provider not in providers:
        raise ValidationFailed("团购目前支持测试支付（simulated）", field="provider")
    if part.status != ParticipationStatus.pending_payment:
        raise IllegalTransition(Msg("参团记录%(s)s，无需付款", s=Msg(part.status_label)))
    if part.pay_by is not None and part.pay_by < now:
        expire_unpaid(session, part.campaign_id, now=now)
        raise IllegalTransition("付款时限已过，名额已释放，请重新参团")
    _take_open(session, part.campaign, now)
    return _capture(session, part, provider, now)


def _capture(session: Session, part: Participation, provider: str,
             now: datetime) -> ParticipationPayment:
    marked = session.execute(
        update(Participation).where(Participation.id == part.id,
                                    Participation.status == ParticipationStatus.pending_payment)
        .values(status=ParticipationStatus.joined,
                paid_fen=Participation.paid_fen + part.amount_due_fen, pay_by=None,
                updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if marked != 1:
        raise IllegalTransition("参团记录刚刚发生变化，请刷新后重试")
    count = len(part.payments)
    payment = ParticipationPayment(
        participation_id=part.id, provider=provider,
        reference=f"sim-campaign-{part.id}-{count + 1}", amount_fen=part.amount_due_fen,
        currency="CNY", status=ParticipationPaymentStatus.succeeded, created_at=now)
    session.add(payment)
    session.flush()
    session.refresh(part)
    return payment


def change(session: Session, user: User, part: Participation, lines: Sequence[LineInput],
           providers: Mapping, *, now: datetime | None = None) -> Participation:
    """New quantities until the deadline: units held or released by the difference; a paid
    participation is charged the new amount (its old payment refunded) or given the
    difference back at once."""
    now = now or now_utc()
    if part.user_id != user.id:
        raise NotFound("未找到该参团记录")
    if part.status not in HOLDING:
        raise IllegalTransition(Msg("参团记录%(s)s，不能修改", s=Msg(part.status_label)))
    campaign = part.campaign
    quantities = _quantities(campaign, lines)
    _take_open(session, campaign, now)
    old = {line.product_id: line.quantity for line in part.lines}
    more = {pid: q - old.get(pid, 0) for pid, q in quantities.items() if q > old.get(pid, 0)}
    less = {pid: q - quantities.get(pid, 0) for pid, q in old.items()
            if q > quantities.get(pid, 0)}
    if more:
        orders.reserve_units(session, more, {cp.product_id: cp.product.name
                                             for cp in campaign.products}, now)
    orders.release_units(session, less)
    by_product = {line.product_id: line for line in part.lines}
    for pid, q in quantities.items():
        if pid in by_product:
            by_product[pid].quantity = q
        else:
            part.lines.append(ParticipationLine(product_id=pid, quantity=q))
    for pid in set(by_product) - set(quantities):
        part.lines.remove(by_product[pid])
    part.updated_at = now
    if campaign.delivery == Delivery.individual:
        due = rules.amount_fen(starting_prices(campaign), quantities)
        if part.status == ParticipationStatus.joined and due != part.paid_fen:
            paid = _succeeded(part)
            if due < part.paid_fen:
                refund(session, part, paid, part.paid_fen - due, providers, now,
                       key=f"campaign-change-{part.id}-{paid.refunded_fen}-{due}")
            else:  # the old payment goes back, the new amount is captured
                refund(session, part, paid, paid.amount_fen - paid.refunded_fen, providers, now,
                       key=f"campaign-change-{paid.id}",
                       final=ParticipationPaymentStatus.refunded)
                part.status, part.amount_due_fen = ParticipationStatus.pending_payment, due
                session.flush()
                _capture(session, part, "simulated", now)
        part.amount_due_fen = due
    session.flush()
    return part


def withdraw(session: Session, user: User, part: Participation, providers: Mapping, *,
             now: datetime | None = None) -> Participation:
    """Leave before the deadline: units released, what was paid refunded in full."""
    now = now or now_utc()
    if part.user_id != user.id:
        raise NotFound("未找到该参团记录")
    if part.status not in HOLDING:
        raise IllegalTransition(Msg("参团记录%(s)s，不能退出", s=Msg(part.status_label)))
    _take_open(session, part.campaign, now)
    ended = session.execute(
        update(Participation).where(Participation.id == part.id,
                                    Participation.status.in_(HOLDING))
        .values(status=ParticipationStatus.withdrawn, updated_at=now)
        .execution_options(synchronize_session=False)).rowcount
    if ended != 1:
        raise IllegalTransition("参团记录刚刚发生变化，请刷新后重试")
    orders.release_units(session, {line.product_id: line.quantity for line in part.lines})
    session.refresh(part)
    paid = _succeeded(part, required=False)
    if paid is not None:
        refund(session, part, paid, paid.amount_fen - paid.refunded_fen, providers, now,
               key=f"campaign-withdraw-{paid.id}", final=ParticipationPaymentStatus.refunded)
    session.flush()
    return part


def expire_unpaid(session: Session, campaign_id: int | None = None, *,
                  now: datetime | None = None) -> int:
    """Participations not paid within their window release their units (all campaigns, or
    one): how many. Each is ended by a conditional UPDATE, so two expiring at once release
    once."""
    now = now or now_utc()
    where = [Participation.status == ParticipationStatus.pending_payment,
             Participation.pay_by < now]
    if campaign_id is not None:
        where.append(Participation.campaign_id == campaign_id)
    count = 0
    for part_id in session.scalars(select(Participation.id).where(*where)
                                   .order_by(Participation.id)).all():
        if session.execute(
                update(Participation).where(
                    Participation.id == part_id,
                    Participation.status == ParticipationStatus.pending_payment)
                .values(status=ParticipationStatus.expired, updated_at=now)
                .execution_options(synchronize_session=False)).rowcount != 1:
            continue
        lines = session.execute(select(ParticipationLine.product_id, ParticipationLine.quantity)
                                .where(ParticipationLine.participation_id == part_id)).all()
        orders.release_units(session, dict(lines))
        count += 1
    return count


# ---- money back ---------------------------------------------------------------------------------

def _succeeded(part: Participation, required: bool = True) -> ParticipationPayment | None:
    for payment in part.payments:
        if payment.status == ParticipationPaymentStatus.succeeded:
            return payment
    if required:
        raise IllegalTransition("找不到这笔参团付款")
    return None


def pay_back(providers: Mapping, provider_name: str, reference: str, amount: int,
             key: str) -> str | None:
    """`amount` of the capture `reference` back through the provider that took it (idempotency
    `key`): the refund's reference, or None when it cannot be made now (the provider is not
    configured, unreachable or refuses): the caller keeps the amount due, on record."""
    provider = providers.get(provider_name)
    if provider is None:
        return None
    try:
        return str(provider.refund(reference, amount, idempotency_key=key))[:64]
    except Exception:  # noqa: BLE001 - an outage or a refusal: still due
        return None


def refund(session: Session, part: Participation, payment: ParticipationPayment, amount: int,
           providers: Mapping, now: datetime, *, key: str,
           final: ParticipationPaymentStatus | None = None) -> None:
    """`amount` of `payment` goes back through its provider (idempotency `key`); recorded on
    the payment and the participation. A provider that cannot refund now leaves the amount due
    on the participation (retried by `flask campaigns close-due`)."""
    if amount > 0:
        reference = pay_back(providers, payment.provider, payment.reference, amount, key)
        if reference is None:
            part.refund_due_fen += amount
        else:
            payment.refund_reference = reference
            part.refunded_fen += amount
        payment.refunded_fen += amount
        part.updated_at = now
    if final is not None:
        payment.status = final
