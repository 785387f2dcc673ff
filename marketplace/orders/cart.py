"""The cart: in the session for visitors, in the database for signed-in buyers, merged at sign-in.

Quantities are checked against stock when they are put in and shown again against the stock of
the moment; prices are never stored here (they always come from the product at checkout).
`bag` is the visitor's session dict (only its "cart" key is used).
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.errors import NotFound, RuleBroken, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.inputs import BIGINT_MAX, bounded_int, id_value
from marketplace.orders import services
from marketplace.orders.models import CartItem
from marketplace.orders.services import MAX_LINES, MAX_QUANTITY, shipping_fee
from marketplace.sellers.models import SellerStatus

SESSION_KEY = "cart"


@dataclass
class CartLine:
    product: Product
    quantity: int
    problem: str = ""  # why it cannot be bought as it is (sold out, fewer left, delisted)

    @property
    def amount_fen(self) -> int:
        return self.product.price_fen * self.quantity


@dataclass
class SellerGroup:
    seller: object
    lines: list[CartLine]

    @property
    def goods_fen(self) -> int:
        return sum(line.amount_fen for line in self.lines if not line.problem)

    @property
    def shipping_fen(self) -> int:
        if not self.goods_fen:
            return 0
        return shipping_fee(self.goods_fen, self.seller.shipping_fee_fen or 0,
                            self.seller.free_shipping_from_fen)

    @property
    def total_fen(self) -> int:
        return self.goods_fen + self.shipping_fen


def _visitor(bag: dict) -> dict[int, int]:
    raw = bag.get(SESSION_KEY) or {}
    out = {}
    for key, value in raw.items():
        product_id, quantity = id_value(key), bounded_int(value, 1, BIGINT_MAX)
        if product_id is not None and quantity is not None:
            out[product_id] = quantity
    return out


def _save_visitor(bag: dict, items: dict[int, int]) -> None:
    bag[SESSION_KEY] = {str(k): v for k, v in items.items() if v > 0}


def quantities(session: Session, user: User | None, bag: dict) -> dict[int, int]:
    if user is None:
        return _visitor(bag)
    rows = session.execute(select(CartItem.product_id, CartItem.quantity)
                           .where(CartItem.user_id == user.id).order_by(CartItem.id))
    return dict(rows.tuples().all())


def _buyable(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None or product.status != ProductStatus.listed \
            or product.seller.status != SellerStatus.verified:
        raise NotFound("该商品已下架或不存在")
    return product


def _check(product: Product, quantity: int) -> None:
    if quantity > product.stock:
        raise RuleBroken(Msg("%(name)s 库存只剩 %(n)s 件", name=product.name, n=product.stock)
                         if product.stock else Msg("%(name)s 已售罄", name=product.name),
                         field="quantity")
    if quantity > MAX_QUANTITY:
        raise RuleBroken(Msg("每种商品一次最多购买 %(n)s 件", n=MAX_QUANTITY), field="quantity")


def set_quantity(session: Session, user: User | None, bag: dict, product_id: int,
                 quantity: int, *, add: bool = False) -> int:
    """Put `quantity` (or `quantity` more, with add=True) of a product in the cart; 0 takes
    it out. Returns the quantity now in the cart."""
    if not isinstance(quantity, int) or quantity < 0 or (add and quantity == 0):
        raise ValidationFailed("数量必须是正整数", field="quantity")
    current = quantities(session, user, bag)
    wanted = current.get(product_id, 0) + quantity if add else quantity
    if wanted:
        # stock is read here: unpaid orders past their window give their units back first
        services.expire(session, product_ids=[product_id])
        product = _buyable(session, product_id)
        _check(product, wanted)
        if product_id not in current and len(current) >= MAX_LINES:
            raise RuleBroken(Msg("购物车最多放 %(n)s 种商品", n=MAX_LINES))
    if user is None:
        current[product_id] = wanted
        _save_visitor(bag, current)
        return wanted
    item = session.scalar(select(CartItem).where(CartItem.user_id == user.id,
                                                 CartItem.product_id == product_id))
    if not wanted:
        if item is not None:
            session.delete(item)
    elif item is None:
        session.add(CartItem(user_id=user.id, product_id=product_id, quantity=wanted))
    else:
        item.quantity = wanted
    session.flush()
    return wanted


def remove(session: Session, user: User | None, bag: dict, product_ids: list[int]) -> None:
    if user is None:
        current = _visitor(bag)
        for pid in product_ids:
            current.pop(pid, None)
        _save_visitor(bag, current)
        return
    session.execute(delete(CartItem).where(CartItem.user_id == user.id,
                                           CartItem.product_id.in_(product_ids)))


def merge(session: Session, user: User, bag: dict) -> int:
    """At sign-in: the visitor's lines join the buyer's (quantities added, capped by the stock
    of the moment). Returns how many lines came over."""
    visitor = _visitor(bag)
    if not visitor:
        return 0
    mine = quantities(session, user, bag={})
    moved = 0
    for pid, qty in visitor.items():
        product = session.get(Product, pid)
        if product is None:
            continue
        wanted = min(mine.get(pid, 0) + qty, MAX_QUANTITY, max(product.stock, 0))
        if wanted <= 0:
            continue
        item = session.scalar(select(CartItem).where(CartItem.user_id == user.id,
                                                     CartItem.product_id == pid))
        if item is None:
            session.add(CartItem(user_id=user.id, product_id=pid, quantity=wanted))
        else:
            item.quantity = wanted
        moved += 1
    bag.pop(SESSION_KEY, None)
    session.flush()
    return moved


def lines(session: Session, user: User | None, bag: dict) -> list[SellerGroup]:
    """The cart by seller, each line checked against the stock of the moment."""
    return _grouped(session, quantities(session, user, bag))


def one_line(session: Session, product_id: int, quantity: int) -> list[SellerGroup]:
    """立即购买: one product and quantity shaped like a cart of one line, checked the same way
    (the cart itself is left as it is); [] when there is no such product."""
    return _grouped(session, {product_id: quantity})


def check_line(session: Session, product_id: int, quantity: int) -> int:
    """What putting `quantity` in the cart would check, without putting it there (立即购买)."""
    if not isinstance(quantity, int) or quantity < 1:
        raise ValidationFailed("数量必须是正整数", field="quantity")
    services.expire(session, product_ids=[product_id])
    _check(_buyable(session, product_id), quantity)
    return quantity


def _grouped(session: Session, wanted: dict[int, int]) -> list[SellerGroup]:
    if not wanted:
        return []
    products = {p.id: p for p in session.scalars(select(Product)
                                                 .where(Product.id.in_(list(wanted))))}
    groups: dict[int, SellerGroup] = {}
    for pid, qty in wanted.items():
        product = products.get(pid)
        if product is None:
            continue
        problem = ""
        if product.status != ProductStatus.listed or \
                product.seller.status != SellerStatus.verified:
            problem = Msg("已下架")
        elif product.stock <= 0:
            problem = Msg("已售罄")
        elif qty > product.stock:
            problem = Msg("库存只剩 %(n)s 件", n=product.stock)
        elif qty > MAX_QUANTITY:
            problem = Msg("每种商品一次最多购买 %(n)s 件", n=MAX_QUANTITY)
        group = groups.setdefault(product.seller_id, SellerGroup(product.seller, []))
        group.lines.append(CartLine(product, qty, problem))
    return sorted(groups.values(), key=lambda g: g.seller.id)


def count(session: Session, user: User | None, bag: dict) -> int:
    return sum(quantities(session, user, bag).values())
