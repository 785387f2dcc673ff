"""Closing a group purchase at its deadline: `flask campaigns close-due` (cron) and the first
read after the deadline (`close_if_due`). Idempotent, and exactly one closer wins when several
try at once: the closer takes the campaign's row with a conditional UPDATE (only while open and
not yet closing); a second closer waits for that row (PostgreSQL) or the single writer (SQLite)
and then finds it closed.

- Minimum not reached: every hold released, every payment refunded in full, one notice per
  participant, nothing posted to the households' ledger.
- Minimum reached, individual delivery: one order per participant (channel group_purchase, the
  unit's id, the campaign's id) at the tier price reached, paid by the participant's payment
  (the same provider reference, the final amount: the order's one payment), what was paid above
  it refunded, exact to the fen; the held units sold; the payments recorded and the
  households' income posted once, at the final price, in the same transaction
  (`payments.capture.record_settled`).
- Minimum reached, consolidated delivery: one order for the unit at the tier prices, holding the
  participants' units, waiting for the unit's payment (bank transfer or card, as any order);
  its income is posted when that payment is captured.

Every write of a settlement is a bulk statement (bench/campaigns.py closes 5,000 participants).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from marketplace.core.db import insert_many, write_intent
from marketplace.core.i18n import Msg
from marketplace.core.time import as_aware, now_utc
from marketplace.notifications import services as notifications
from marketplace.orders import services as orders
from marketplace.orders.models import (
    Channel,
    Checkout,
    OrderStatus,
)
from marketplace.payments import capture
from marketplace.payments.transfers import TRANSFER_WINDOW
from marketplace.regions.models import Region, address_name
from marketplace.units import rules
from marketplace.units.campaigns import tiers_of
from marketplace.units.models import (
    Campaign,
    CampaignStatus,
    Delivery,
    Participation,
    ParticipationLine,
    ParticipationPayment,
    ParticipationPaymentStatus,
    ParticipationStatus,
    UnitMember,
)
from marketplace.units.participations import expire_unpaid, pay_back, refund

CAMPAIGN_PAGE = "campaigns.campaign_page"
UNIT_ORDER_WINDOW = TRANSFER_WINDOW + timedelta(days=4)  # a unit pays its order within a week


@dataclass(frozen=True)
class Closed:
    campaign_id: int
    status: CampaignStatus
    closed_here: bool  # this call closed it (False: it was closed before, or is not due)
    orders: int = 0


def close_if_due(session: Session, campaign: Campaign, providers: Mapping, *,
                 now: datetime | None = None) -> Closed:
    """Close `campaign` if its deadline has passed and it is still open (the caller commits)."""
    now = now or now_utc()
    if campaign.status != CampaignStatus.open or campaign.deadline > now:
        return Closed(campaign.id, campaign.status, False)
    return close(session, campaign, providers, now=now)


def close_on_read(session: Session, campaign: Campaign, providers: Mapping, *,
                  commit: Callable[[], None], now: datetime | None = None) -> Campaign:
    """The lazy close of a page or an API read: a campaign past its deadline and still open is
    closed (and `commit` called) before anything else reads it; the campaign as it is then.
    The read's own transaction ends first, so that on SQLite the close begins a write
    transaction (BEGIN IMMEDIATE: it queues for the writer instead of failing to upgrade a
    read)."""
    now = now or now_utc()
    if campaign.status != CampaignStatus.open or as_aware(campaign.deadline) > now:
        return campaign
    campaign_id = campaign.id
    session.rollback()
    with write_intent():
        campaign = session.get(Campaign, campaign_id)
        close_if_due(session, campaign, providers, now=now)
        commit()
    return campaign


def close(session: Session, campaign: Campaign, providers: Mapping, *, actor=None,
          now: datetime | None = None) -> Closed:
    """Settle a campaign past its deadline (see the module); the caller commits."""
    now = now or now_utc()
    won = session.execute(
        update(Campaign).where(Campaign.id == campaign.id, Campaign.status == CampaignStatus.open,
                               Campaign.closed_at.is_(None), Campaign.deadline <= now)
        .values(closed_at=now, closed_by=getattr(actor, "id", None), updated_at=now)
        .execution_options(synchronize_session=False)).rowcount == 1
    session.refresh(campaign)
    if not won:
        return Closed(campaign.id, campaign.status, False)
    parts = _participations(session, campaign.id, now)
    total = sum(q for _, lines in parts for q in lines.values())
    if not rules.reached_minimum(total, campaign.minimum_quantity):
        _fail(session, campaign, parts, providers, now)
        made = 0
    elif campaign.delivery == Delivery.consolidated:
        made = _consolidated(session, campaign, parts, now)
    else:
        made = _individual(session, campaign, parts, providers, now)
    session.flush()
    session.refresh(campaign)
    return Closed(campaign.id, campaign.status, True, made)


def due_ids(session: Session, now: datetime | None = None) -> list[int]:
    """Open campaigns past their deadline, oldest first."""
    return list(session.scalars(select(Campaign.id).where(
        Campaign.status == CampaignStatus.open, Campaign.deadline <= (now or now_utc()))
        .order_by(Campaign.id)))


def close_due(session: Session, providers: Mapping, *, commit: Callable[[], None],
              now: datetime | None = None, progress: Callable[[int, int], None] | None = None,
              ) -> list[Closed]:
    """Close every open campaign past its deadline, each in its own transaction (`commit`
    after each); also releases the units of participations not paid within their window and
    retries refunds a provider could not make before."""
    now = now or now_utc()
    expire_unpaid(session, now=now)
    commit()
    ids = due_ids(session, now)
    done = []
    for i, campaign_id in enumerate(ids, start=1):
        done.append(close(session, session.get(Campaign, campaign_id), providers, now=now))
        commit()
        if progress:
            progress(i, len(ids))
    retry_refunds(session, providers, now=now)
    commit()
    return done


@dataclass
class _Joined:
    """A joined participation as the close reads it (plain rows: thousands at once)."""
    id: int
    user_id: int
    refunded_fen: int
    refund_due_fen: int
    address: dict
    payment: _Paid | None = None


@dataclass
class _Paid:
    """Its succeeded payment."""
    id: int
    provider: str
    reference: str
    amount_fen: int
    refunded_fen: int
    currency: str
    refund_reference: str


def _participations(session: Session, campaign_id: int,
                    now: datetime) -> list[tuple[_Joined, dict[int, int]]]:
    """Unpaid participations end (their units go back); the joined ones with their lines and
    payments, read as plain rows."""
    unpaid = session.execute(
        select(ParticipationLine.product_id, ParticipationLine.quantity)
        .join(Participation, Participation.id == ParticipationLine.participation_id)
        .where(Participation.campaign_id == campaign_id,
               Participation.status == ParticipationStatus.pending_payment)).all()
    if unpaid:
        back: dict[int, int] = defaultdict(int)
        for pid, q in unpaid:
            back[pid] += q
        session.execute(update(Participation).where(
            Participation.campaign_id == campaign_id,
            Participation.status == ParticipationStatus.pending_payment)
            .values(status=ParticipationStatus.expired, updated_at=now)
            .execution_options(synchronize_session=False))
        orders.release_units(session, dict(back))
    joined = (Participation.campaign_id == campaign_id,
              Participation.status == ParticipationStatus.joined)
    conn = session.connection()
    parts = {row.id: (_Joined(row.id, row.user_id, row.refunded_fen, row.refund_due_fen, {
        "recipient": row.recipient, "mobile": row.mobile, "region_id": row.region_id,
        "region_names": row.region_names, "address_detail": row.address_detail}), {})
        for row in conn.execute(select(
            Participation.id, Participation.user_id, Participation.refunded_fen,
            Participation.refund_due_fen, Participation.recipient, Participation.mobile,
            Participation.region_id, Participation.region_names, Participation.address_detail)
            .where(*joined).order_by(Participation.id))}
    for part_id, product_id, quantity in conn.execute(
            select(ParticipationLine.participation_id, ParticipationLine.product_id,
                   ParticipationLine.quantity)
            .join(Participation, Participation.id == ParticipationLine.participation_id)
            .where(*joined)):
        parts[part_id][1][product_id] = quantity
    pays = ParticipationPayment
    for row in conn.execute(
            select(pays.id, pays.participation_id, pays.provider, pays.reference,
                   pays.amount_fen, pays.refunded_fen, pays.currency, pays.refund_reference)
            .join(Participation, Participation.id == pays.participation_id)
            .where(*joined, pays.status == ParticipationPaymentStatus.succeeded)):
        parts[row.participation_id][0].payment = _Paid(
            row.id, row.provider, row.reference, row.amount_fen, row.refunded_fen,
            row.currency, row.refund_reference)
    return list(parts.values())


def _expire_loaded(session: Session) -> None:
    """Participations and their payments the session holds are read again when next used
    (the close wrote them with Core statements)."""
    for obj in list(session.identity_map.values()):
        if isinstance(obj, (Participation, ParticipationPayment)):
            session.expire(obj)


def _units(parts) -> dict[int, int]:
    out: dict[int, int] = defaultdict(int)
    for _, lines in parts:
        for pid, q in lines.items():
            out[pid] += q
    return dict(out)


# ---- failed -------------------------------------------------------------------------------------

def _fail(session, campaign, parts, providers, now) -> None:
    campaign.status = CampaignStatus.failed
    orders.release_units(session, _units(parts))
    loaded_parts = session.scalars(select(Participation).where(
        Participation.campaign_id == campaign.id,
        Participation.status == ParticipationStatus.joined).order_by(Participation.id)).all()
    for part in loaded_parts:
        part.status, part.updated_at = ParticipationStatus.failed, now
        for payment in part.payments:
            if payment.status == ParticipationPaymentStatus.succeeded:
                refund(session, part, payment, payment.amount_fen - payment.refunded_fen,
                       providers, now, key=f"campaign-failed-{payment.id}",
                       final=ParticipationPaymentStatus.refunded)
    notifications.notify(
        session, [part.user_id for part, _ in parts],
        Msg("团购「%(t)s」未达到成团数量，已释放库存，付款将全额原路退回", t=campaign.title),
        CAMPAIGN_PAGE, campaign_id=campaign.id)


# ---- succeeded ----------------------------------------------------------------------------------

def _prices(session, campaign, parts) -> dict[int, int]:
    units = _units(parts)
    return {cp.product_id: rules.unit_price(cp.list_price_fen, tiers_of(cp),
                                            units.get(cp.product_id, 0))
            for cp in campaign.products}


def _checkouts(conn, buyer_ids: list[int], keys: list[str], now: datetime) -> list[int]:
    return insert_many(conn, Checkout.__table__, [
        {"buyer_id": b, "idempotency_key": k, "fingerprint": "campaign", "created_at": now}
        for b, k in zip(buyer_ids, keys, strict=True)], "id")


def _order_row(campaign, checkout_id, buyer_id, goods, now, *, status, address: dict) -> dict:
    paid = status == OrderStatus.paid
    return {
        "number": orders.order_number(now, checkout_id, 0), "checkout_id": checkout_id,
        "buyer_id": buyer_id, "seller_id": campaign.seller_id,
        "channel": Channel.group_purchase, "unit_id": campaign.unit_id,
        "campaign_id": campaign.id, "status": status, "goods_fen": goods, "shipping_fen": 0,
        "total_fen": goods, "paid_fen": goods if paid else 0, "refunded_fen": 0,
        "currency": "CNY", "reserved_until": None if paid else now + UNIT_ORDER_WINDOW,
        "stock_held": not paid, "cancel_reason": "", "paid_at": now if paid else None,
        "payment_method": "", "voucher_filename": "", "voucher_uploaded_at": None,
        "carrier": "", "tracking_no": "", "shipped_at": None, "received_at": None,
        "created_at": now, "updated_at": now, **address}


def _lines(campaign, quantities: dict[int, int], prices: dict[int, int]) -> list[dict]:
    products = {cp.product_id: cp.product for cp in campaign.products}
    return [{"product_id": pid, "name": products[pid].name, "spec": products[pid].spec,
             "unit_price_fen": prices[pid], "quantity": q, "amount_fen": prices[pid] * q}
            for pid, q in sorted(quantities.items())]


def _individual(session, campaign, parts, providers, now) -> int:
    """One paid order per participant at the tier prices reached (see the module)."""
    campaign.status = CampaignStatus.succeeded
    if not parts:
        return 0
    conn = session.connection()
    prices = _prices(session, campaign, parts)
    checkout_ids = _checkouts(conn, [p.user_id for p, _ in parts],
                              [f"campaign-{campaign.id}-{p.id}" for p, _ in parts], now)
    order_rows, line_rows = [], []
    for (part, quantities), checkout_id in zip(parts, checkout_ids, strict=True):
        lines = _lines(campaign, quantities, prices)
        line_rows.append(lines)
        order_rows.append(_order_row(
            campaign, checkout_id, part.user_id, sum(ln["amount_fen"] for ln in lines), now,
            status=OrderStatus.paid, address=part.address))
    order_ids, line_ids = orders.write_orders(conn, order_rows, line_rows)
    payments = [_succeeded(part) for part, _ in parts]
    captures = [capture.Capture(pay.provider, pay.reference, pay.amount_fen, pay.currency, now)
                for pay in payments]
    orders.sell_units(session, _units(parts))
    _settle_payments(session, parts, payments, order_rows, order_ids, providers, now)
    made = _loaded_orders(campaign, order_ids, order_rows, line_rows, line_ids)
    capture.record_settled(session, made, captures)
    notifications.notify(
        session, [part.user_id for part, _ in parts],
        Msg("团购「%(t)s」已成团，订单已生成，多付的差价已原路退回", t=campaign.title),
        CAMPAIGN_PAGE, campaign_id=campaign.id)
    notifications.to_staff(session, campaign.seller_id, Msg(
        "团购「%(t)s」已成团：%(n)s 个订单待发货", t=campaign.title, n=len(order_ids)),
        CAMPAIGN_PAGE, campaign_id=campaign.id)
    _expire_loaded(session)  # written by _settle_payments
    return len(order_ids)


def _settle_payments(session, parts, payments, order_rows, order_ids, providers, now) -> None:
    """What was paid above the final price goes back (as `participations.refund` gives it back: a
    refund the provider could not make stays due on the participation); each payment becomes
    its order's, each participation settled with its order. Written with two executemany
    UPDATEs (the close holds the campaign's row: nothing else changes these rows meanwhile);
    the caller expires the loaded objects once it no longer reads them."""
    part_rows, pay_rows = [], []
    for (part, _), pay, row, oid in zip(parts, payments, order_rows, order_ids, strict=True):
        back = rules.difference_fen(pay.amount_fen - pay.refunded_fen, row["total_fen"])
        refunded, due, reference = part.refunded_fen, part.refund_due_fen, pay.refund_reference
        if back > 0:
            made = pay_back(providers, pay.provider, pay.reference, back,
                            f"campaign-settle-{pay.id}")
            if made is None:
                due += back
            else:
                reference, refunded = made, refunded + back
        pay_rows.append({"b_id": pay.id, "b_refunded": pay.refunded_fen + back,
                         "b_reference": reference})
        part_rows.append({"b_id": part.id, "b_order": oid, "b_refunded": refunded,
                          "b_due": due})
    conn = session.connection()
    pays = ParticipationPayment.__table__
    conn.execute(pays.update().where(pays.c.id == bindparam("b_id")).values(
        status=ParticipationPaymentStatus.settled.value, refunded_fen=bindparam("b_refunded"),
        refund_reference=bindparam("b_reference")), pay_rows)
    table = Participation.__table__
    conn.execute(table.update().where(table.c.id == bindparam("b_id")).values(
        status=ParticipationStatus.settled.value, order_id=bindparam("b_order"),
        refunded_fen=bindparam("b_refunded"), refund_due_fen=bindparam("b_due"),
        updated_at=now), part_rows)


def _succeeded(part: _Joined) -> _Paid:
    if part.payment is None:
        raise RuntimeError(f"joined participation {part.id} has no payment")
    return part.payment


@dataclass
class _Line:
    """An order line just written, as posting reads it."""
    id: int
    product_id: int
    quantity: int
    amount_fen: int
    share_bp: int | None = None
    attributable_fen: int | None = None


@dataclass
class _Order:
    """An order just written, as `payments.capture.record_settled` and posting read it (plain
    objects: building thousands of mapped ones costs more than the close's SQL)."""
    id: int
    paid_fen: int
    seller: object
    lines: list[_Line]
    channel: str = "group_purchase"  # orders.models.Channel.group_purchase (the reports' rollup)


def _loaded_orders(campaign, order_ids, order_rows, line_rows, line_ids) -> list[_Order]:
    ids = iter(line_ids)
    return [_Order(order_id, row["paid_fen"], campaign.seller,
                   [_Line(next(ids), ln["product_id"], ln["quantity"], ln["amount_fen"])
                    for ln in lines])
            for order_id, row, lines in zip(order_ids, order_rows, line_rows, strict=True)]


def _consolidated(session, campaign, parts, now) -> int:
    """One order for the unit, holding the participants' units, waiting for its payment."""
    campaign.status = CampaignStatus.succeeded
    if not parts:
        return 0
    conn = session.connection()
    prices = _prices(session, campaign, parts)
    lines = _lines(campaign, _units(parts), prices)
    region = session.get(Region, campaign.region_id)
    checkout_id, = _checkouts(conn, [campaign.created_by], [f"campaign-{campaign.id}"], now)
    row = _order_row(campaign, checkout_id, campaign.created_by,
                     sum(ln["amount_fen"] for ln in lines), now,
                     status=OrderStatus.pending_payment, address={
                         "recipient": campaign.recipient, "mobile": campaign.mobile,
                         "region_id": campaign.region_id,
                         "region_names": address_name(region.name_path),
                         "address_detail": campaign.address_detail})
    (order_id,), _ = orders.write_orders(conn, [row], [lines])
    campaign.order_id = order_id
    table = Participation.__table__
    conn.execute(table.update().where(table.c.id == bindparam("p_id")).values(
        status=ParticipationStatus.settled.value, order_id=order_id, updated_at=now),
        [{"p_id": part.id} for part, _ in parts])
    _expire_loaded(session)
    admins = session.scalars(select(UnitMember.user_id).where(
        UnitMember.unit_id == campaign.unit_id, UnitMember.is_admin.is_(True))).all()
    notifications.notify(session, admins, Msg(
        "团购「%(t)s」已成团，请在 7 天内支付单位订单", t=campaign.title),
        "orders.order_page", order_id=order_id)
    notifications.notify(session, [part.user_id for part, _ in parts], Msg(
        "团购「%(t)s」已成团，由单位统一下单配送", t=campaign.title),
        CAMPAIGN_PAGE, campaign_id=campaign.id)
    notifications.to_staff(session, campaign.seller_id, Msg(
        "团购「%(t)s」已成团，单位订单待付款", t=campaign.title),
        CAMPAIGN_PAGE, campaign_id=campaign.id)
    return 1


# ---- refunds a provider could not make ----------------------------------------------------------

def retry_refunds(session: Session, providers: Mapping, *, now: datetime | None = None) -> int:
    """Participations with money still to go back: tried again (how many got it back)."""
    now = now or now_utc()
    done = 0
    for part in session.scalars(select(Participation).where(Participation.refund_due_fen > 0)
                                .order_by(Participation.id)):
        payment = next((p for p in reversed(part.payments)), None)
        if payment is None or pay_back(
                providers, payment.provider, payment.reference, part.refund_due_fen,
                f"campaign-retry-{part.id}-{part.refund_due_fen}") is None:
            continue  # still down: stays due
        part.refunded_fen += part.refund_due_fen
        part.refund_due_fen = 0
        part.updated_at = now
        done += 1
    session.flush()
    return done
