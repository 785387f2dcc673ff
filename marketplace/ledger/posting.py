"""Posting to the attribution ledger in the transaction that moves the money.

`post_sale` runs when a payment is captured (`payments.capture.record`, which records a
payment once per provider reference, so a sale is posted once whatever number of webhooks or
retries arrive): each line's attributable amount (floor(net x share / 10000), the product's
share or else its seller's) is split among the seller's beneficiary households and chained.
`post_refund` runs when money goes back (`payments.refunds`): reversals that bring each line's
reversed total to floor(attributable x min(refunded, goods) / goods) (the goods are refunded
before the shipping), split by what each household still holds of the line.

Beneficiaries: a household shop's own household; a cooperative's member households by weight;
or, for lot-backed products (an enterprise's, and a cooperative's that say so), the households
whose supply lots the line draws on, first in first out, by units drawn (`ledger.lots`); units no
lot covers attribute nothing.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from marketplace.ledger import chain, lots, rollup, rules, sql
from marketplace.ledger.chain import NewEntry
from marketplace.orders.models import Order
from marketplace.sellers.models import Seller, SellerKind


def beneficiary_weights(session: Session, seller: Seller) -> dict[int, int]:
    """Household id -> weight among whom the seller's sales are attributed when they are not
    lot-backed."""
    if seller.kind == SellerKind.household_shop:
        return {seller.household_id: 1} if seller.household_id else {}
    if seller.kind == SellerKind.cooperative:
        return dict(session.connection().execute(sql.MEMBER_WEIGHTS,
                                                  {"seller_id": seller.id}).all())
    return {}


def post_sale(session: Session, order: Order, now: datetime) -> list[rules.ChainEntry]:
    """Attribute the paid order's lines; records each line's share and attributable amount.
    Lot-backed lines draw on their product's supply lots; the others go to the seller's
    households by weight. A line with no beneficiaries at all stays unattributed."""
    return post_sales(session, [order], now)


def post_sales(session: Session, orders: list[Order], now: datetime) -> list[rules.ChainEntry]:
    """`post_sale` for many paid orders at once (a group purchase's settlement; loaded orders, or
    plain objects with id, seller and lines): the products' terms and each seller's weights
    read once, one append to the chain."""
    conn = session.connection()
    lines = [line for order in orders for line in order.lines]
    terms, categories = {}, {}
    for pid, bp, backed, category in conn.execute(
            sql.PRODUCT_TERMS, {"ids": sorted({line.product_id for line in lines})}):
        terms[pid], categories[pid] = (bp, backed), category  # (share, lot-backed)
    by_lots = [(line.id, line.product_id, line.quantity) for order in orders
               for line in order.lines
               if lots.is_lot_backed(order.seller, terms.get(line.product_id, (None, False))[1])]
    draws = lots.draw(session, by_lots)
    weights: dict[int, dict[int, int]] = {}
    entries, attributions = [], []
    for order in orders:
        seller = order.seller
        for line in order.lines:
            share = rules.share_bp_of(terms.get(line.product_id, (None, False))[0],
                                      seller.household_share_bp)
            if line.id in draws:
                among = rules.lot_weights(draws[line.id])
                covered = sum(among.values())  # the units its lots covered
            else:
                if seller.id not in weights:
                    weights[seller.id] = beneficiary_weights(session, seller)
                among, covered = weights[seller.id], line.quantity
                if not among:
                    continue  # nobody to attribute to: the line stays unattributed
            amount = rules.line_share_fen(line.amount_fen, line.quantity, share, covered)
            attributions.append({"line": line.id, "bp": share, "fen": amount})
            _told(line, share, amount)
            if amount:
                entries += [NewEntry(household, line.id, part)
                            for household, part in rules.split_among(amount, among).items()]
    chained = []
    # where the households and sellers are, read once for all the pre-aggregates
    where = rollup.places(conn, {e.household_id for e in entries},
                          {order.seller.id for order in orders})
    if entries:  # the lines' attributions go with the entries
        chained = chain.append(session, entries, now=now, attributions=attributions,
                               dims=rollup.line_dims(orders, categories), where=where)
    elif attributions:
        conn.execute(sql.SET_ATTRIBUTION, attributions)
    # after the head: see ledger.rollup
    rollup.add_sales(conn, orders, now, categories, areas=where.sellers)
    return chained


def _told(line, share_bp: int, attributable_fen: int) -> None:
    """The line (a loaded OrderLine, or a plain object with its fields: a group purchase's
    close) learns what the posting wrote, without a flush."""
    if hasattr(line, "_sa_instance_state"):
        set_committed_value(line, "share_bp", share_bp)
        set_committed_value(line, "attributable_fen", attributable_fen)
    else:
        line.share_bp, line.attributable_fen = share_bp, attributable_fen


def post_refund(session: Session, order: Order, refunded_before: int, refunded_after: int,
                now: datetime) -> list[rules.ChainEntry]:
    """Reverse, line by line, what the refund from `refunded_before` to `refunded_after` (the
    order's refunded totals) takes back."""
    rollup.add_refund(session.connection(), order, refunded_before, refunded_after, now)
    lines = [line for line in order.lines if line.attributable_fen]
    if not lines:
        return []
    held: dict[int, dict[int, int]] = {}
    for line_id, household, amount in session.connection().execute(
            sql.HELD, {"lines": [line.id for line in lines]}):
        held.setdefault(line_id, {})[household] = int(amount)
    entries = []
    for line in lines:
        taken = rules.reversal_parts(held.get(line.id, {}), line.attributable_fen,
                                     order.goods_fen, refunded_before, refunded_after)
        entries += [NewEntry(household, line.id, -amount) for household, amount in
                    sorted(taken.items())]
    return chain.append(session, entries, now=now)
