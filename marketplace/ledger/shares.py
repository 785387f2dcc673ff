"""What a purchase gives households, shown before anyone pays: for each product or cart line the
households' share (basis points of the goods, shipping excluded) and the amount in fen, by the
rule posting uses (`rules.estimate_fen` over a product's `rules.ShareTerms`, which calls
`rules.line_share_fen` like `posting.post_sale`). For a product without supply lots the amount
is what the payment will credit (a test proves it); for a lot-backed one it is an estimate from
the lots held now (a paid line draws its units first in first out; units no lot covers give
nothing).

`terms` reads what the rule needs for any number of products in one statement (the product's
and its seller's share, the seller's kind and household, whether the cooperative has member
households, the units the product's lots hold), so a catalogue page of 24 products costs one
query. `by_seller_kind` sums up the shares of the listed products for the page 钱去了哪里.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, exists, func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Product
from marketplace.catalog.queries import visible_condition
from marketplace.ledger import rules
from marketplace.ledger.lots import kind_is_lot_backed
from marketplace.ledger.models import SupplyLot
from marketplace.sellers.models import CooperativeMember, Seller, SellerKind

# the lots' units and whether a cooperative has members: correlated subqueries, read through
# ix_supply_lots_product_fifo and uq_cooperative_members_pair
_LOT_UNITS = (select(func.coalesce(func.sum(SupplyLot.remaining), 0))
              .where(SupplyLot.product_id == Product.id).scalar_subquery())
_HAS_MEMBERS = exists().where(CooperativeMember.seller_id == Seller.id)
TERMS = (select(Product.id, Product.household_share_bp, Product.lot_backed, Seller.kind,
                Seller.household_share_bp, Seller.household_id, _LOT_UNITS,
                _HAS_MEMBERS.label("has_members"))
         .join(Seller, Seller.id == Product.seller_id)
         .where(Product.id.in_(bindparam("ids", expanding=True))))


@dataclass(frozen=True)
class Share:
    """What `quantity` units of a product give households if paid now."""
    share_bp: int
    amount_fen: int
    quantity: int = 1
    lot_backed: bool = False  # an estimate from the supply lots held now
    covered: int = 1  # of `quantity`, the units with beneficiaries

    @property
    def estimated(self) -> bool:
        return self.lot_backed


def _terms(kind, product_bp, seller_bp, product_lots, household_id, lot_units,
           has_members) -> rules.ShareTerms:
    """A product's terms from its row, with the beneficiaries `posting.beneficiary_weights`
    and `lots.draw` would find: a household shop's household, a cooperative's members, the
    units its lots hold."""
    backed = kind_is_lot_backed(kind, product_lots)
    if backed:
        units: int | None = int(lot_units or 0)
    elif (kind == SellerKind.household_shop and household_id is not None) or (
            kind == SellerKind.cooperative and has_members):
        units = None  # every unit goes to the seller's households
    else:
        units = 0  # nobody to give to: posting leaves the line unattributed
    return rules.ShareTerms(rules.share_bp_of(product_bp, seller_bp), backed, units)


def terms(session: Session, product_ids: Iterable[int]) -> dict[int, rules.ShareTerms]:
    """Product id -> its terms now, in one statement (products that do not exist are left
    out)."""
    ids = sorted(set(product_ids))
    if not ids:
        return {}
    return {pid: _terms(kind, p_bp, s_bp, p_lots, household, units, members)
            for pid, p_bp, p_lots, kind, s_bp, household, units, members
            in session.execute(TERMS, {"ids": ids})}


def share(found: rules.ShareTerms, unit_price_fen: int, quantity: int = 1) -> Share:
    return Share(found.share_bp, rules.estimate_fen(found, unit_price_fen, quantity), quantity,
                 found.lot_backed, rules.covered_units(found, quantity))


def for_lines(session: Session, lines: Sequence[tuple[Product, int]]) -> dict[int, Share]:
    """Product id -> the Share of each (product, quantity) line at the product's price now."""
    found = terms(session, [product.id for product, _q in lines])
    return {product.id: share(found[product.id], product.price_fen, quantity)
            for product, quantity in lines if product.id in found and quantity > 0}


def for_products(session: Session, products: Sequence[Product]) -> dict[int, Share]:
    """Product id -> the Share of one unit (what a product page and the API show)."""
    return for_lines(session, [(product, 1) for product in products])


@dataclass(frozen=True)
class Total:
    amount_fen: int
    estimated: bool  # some line is lot-backed


def total(shares: Iterable[Share]) -> Total:
    shares = list(shares)
    return Total(sum(s.amount_fen for s in shares), any(s.estimated for s in shares))


@dataclass(frozen=True)
class KindShares:
    """The listed products of one kind of seller: how many, the lowest and highest share."""
    kind: SellerKind
    products: int
    lowest_bp: int
    highest_bp: int


def by_seller_kind(session: Session) -> list[KindShares]:
    """The shares of the products shoppers can buy now, by kind of seller, in one GROUP BY."""
    bp = func.coalesce(Product.household_share_bp, Seller.household_share_bp)
    rows = session.execute(
        select(Seller.kind, func.count(), func.min(bp), func.max(bp)).select_from(Product)
        .join(Seller, Seller.id == Product.seller_id).where(visible_condition())
        .group_by(Seller.kind)).all()
    found = {SellerKind(kind): KindShares(SellerKind(kind), n, int(low), int(high))
             for kind, n, low, high in rows}
    return [found[kind] for kind in SellerKind if kind in found]
