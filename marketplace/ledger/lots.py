"""Supply lots (收购批次): what a cooperative or enterprise bought from which household for which
product, and how sales draw on them; and the attribution terms sellers set (the households'
share of their sales and of each product, lots or not, the guaranteed minimum price).

- A seller records a lot: household (one of its own: a cooperative's members, an enterprise's
  linked households, `sellers.services.is_member`), quantity in the product's units, purchase
  price per unit, date. A lot bought below the product's guaranteed minimum purchase price
  (保底收购价) is flagged: the seller's staff and the offices over the household are told, and
  both see it in their lists.
- A lot-backed product (an enterprise's products always; a cooperative's when it says so) gives
  its households' share through its lots: a paid line draws its quantity from the product's lots
  first in, first out (purchase date, then as recorded) and each household gets the share in
  proportion to the units drawn from it (`rules.draw_fifo`, `rules.lot_weights`). Units no lot
  covers attribute nothing (`rules.attributable_fen(covered, of)`).
- Drawing locks the product's lots (`FOR UPDATE` on PostgreSQL, SQLite's single writer) in
  product order (`sql.OPEN_LOTS`), and `remaining` cannot go below zero (a CHECK constraint and a conditional
  update), so concurrent sales never draw a unit twice.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Role, RoleGrant, User
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.audit.services import record
from marketplace.catalog.models import Product
from marketplace.core import policy
from marketplace.core.errors import Conflict, NotFound, RuleBroken, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.inputs import id_value
from marketplace.core.money import MoneyFormatError, fen_to_yuan_text, parse_yuan
from marketplace.core.pager import Page
from marketplace.core.time import now_utc, today_china
from marketplace.households.models import Household
from marketplace.ledger import rules, sql
from marketplace.ledger.models import LotDraw, SupplyLot
from marketplace.notifications import services as notifications
from marketplace.regions.models import Region
from marketplace.regions.services import within
from marketplace.sellers.models import Seller, SellerKind
from marketplace.sellers.services import is_member

LOT_SELLERS = (SellerKind.cooperative, SellerKind.enterprise)
MAX_QUANTITY = 1_000_000
MAX_UNIT_PRICE_FEN = 10_000_000  # 100,000 yuan per unit


@dataclass(frozen=True)
class LotInput:
    """A lot as typed: product id, household code, quantity, price in yuan, date (YYYY-MM-DD)."""
    product_id: int | str | None
    household_code: str
    quantity: int | str | None
    unit_price: str | int | None  # yuan text from forms, int fen from the API
    purchased_on: str | date | None


def is_lot_backed(seller: Seller, product_lot_backed: bool) -> bool:
    """Whether a product's sales are attributed through its supply lots."""
    return kind_is_lot_backed(seller.kind, product_lot_backed)


def kind_is_lot_backed(kind: SellerKind | str, product_lot_backed: bool) -> bool:
    """`is_lot_backed` from the seller's kind alone: an enterprise's products always are, a
    cooperative's when it says so, a household shop's never."""
    return kind == SellerKind.enterprise or (
        kind == SellerKind.cooperative and bool(product_lot_backed))


def _check_lot_seller(actor: User, seller: Seller) -> None:
    policy.check_manage_seller(actor, seller)
    if seller.kind not in LOT_SELLERS:
        raise RuleBroken("只有农民专业合作社和带农企业登记收购批次")


def _product_of(session: Session, seller: Seller, product_id) -> Product:
    ident = id_value(product_id)
    product = session.get(Product, ident) if ident else None
    if product is None or product.seller_id != seller.id:
        raise ValidationFailed("请选择本经营主体的商品", field="product_id")
    return product


def _whole(value, field: str, label: str, top: int) -> int:
    text = str(value if value is not None else "").strip()
    if not text.isdigit() or not 1 <= int(text) <= top:
        raise ValidationFailed(Msg("%(label)s应为 1 到 %(top)s 之间的整数", label=label, top=top),
                               field=field)
    return int(text)


def _price(value, field: str, *, optional: bool = False) -> int | None:
    if optional and (value is None or str(value).strip() == ""):
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        fen = value
    else:
        try:
            fen = parse_yuan(value)
        except MoneyFormatError:
            raise ValidationFailed("请输入正确的价格（元），最多两位小数", field=field) from None
    if not 0 <= fen <= MAX_UNIT_PRICE_FEN:
        raise ValidationFailed("单价应在 0 到 100,000 元之间", field=field)
    return fen


def _day(value, today: date) -> date:
    if isinstance(value, date):
        day = value
    else:
        try:
            day = date.fromisoformat(str(value or "").strip())
        except ValueError:
            raise ValidationFailed("请输入正确的收购日期（年-月-日）", field="purchased_on") from None
    if day > today:
        raise ValidationFailed("收购日期不能晚于今天", field="purchased_on")
    return day


def _all_checked(checks: dict) -> dict:
    """field -> the value its check gives; one ValidationFailed naming every field that fails."""
    values, errors = {}, {}
    for field, check in checks.items():
        try:
            values[field] = check()
        except ValidationFailed as err:
            errors[field] = [err.message]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return values


def record_lot(session: Session, actor: User, seller: Seller, data: LotInput,
               now: datetime | None = None) -> SupplyLot:
    """Record a lot the seller bought; every problem with the input is reported at once."""
    _check_lot_seller(actor, seller)
    now = now or now_utc()
    values = _all_checked({
        "product_id": lambda: _product_of(session, seller, data.product_id),
        "household_code": lambda: _household(session, seller, data.household_code),
        "quantity": lambda: _whole(data.quantity, "quantity", Msg("数量"), MAX_QUANTITY),
        "unit_price": lambda: _price(data.unit_price, "unit_price"),
        "purchased_on": lambda: _day(data.purchased_on, today_china()),
    })
    product, household = values["product_id"], values["household_code"]
    guarantee = product.guaranteed_price_fen
    lot = SupplyLot(
        seller_id=seller.id, product_id=product.id, household_id=household.id,
        quantity=values["quantity"], remaining=values["quantity"],
        unit_price_fen=values["unit_price"], purchased_on=values["purchased_on"],
        guaranteed_price_fen=guarantee,
        below_guarantee=guarantee is not None and values["unit_price"] < guarantee,
        recorded_by_id=actor.id, created_at=now)
    session.add(lot)
    session.flush()
    if lot.below_guarantee:
        _flag(session, seller, product, household, lot)
    return lot


def _household(session: Session, seller: Seller, code: str) -> Household:
    """The household a lot is bought from: one of the seller's own (a cooperative's members, an
    enterprise's linked households), never any household whose code was typed."""
    household = session.scalar(select(Household).where(Household.code == (code or "").strip()))
    if household is None:
        raise ValidationFailed("未找到该帮扶对象编号", field="household_code")
    if not is_member(session, seller, household.id):
        raise ValidationFailed("该农户不在本经营主体登记的农户名单中，请从名单中选择",
                               field="household_code")
    return household


def _flag(session: Session, seller: Seller, product: Product, household: Household,
          lot: SupplyLot) -> None:
    """Tell the seller's staff and the offices over the household about a lot bought below the
    guaranteed minimum price."""
    text = Msg("收购批次低于保底收购价：%(product)s，%(household)s，收购价 %(price)s 元，"
               "保底价 %(floor)s 元", product=product.name, household=household.masked_name,
               price=fen_to_yuan_text(lot.unit_price_fen),
               floor=fen_to_yuan_text(lot.guaranteed_price_fen or 0))
    staff = session.scalars(select(RoleGrant.user_id).where(
        RoleGrant.role == Role.seller_staff, RoleGrant.seller_id == seller.id))
    notifications.notify(session, staff, text, "seller.supply_lots", seller=seller.id)
    offices = session.scalars(
        select(RoleGrant.user_id).join(Region, Region.id == RoleGrant.region_id)
        .where(RoleGrant.role == Role.office,
               literal(household.village.path).like(Region.path + "%")))  # over it
    notifications.notify(session, offices, text, "households.office_index", _anchor="lots")


SHARE_RE = re.compile(r"^(\d{1,3})(?:\.(\d{1,2}))?$")


def parse_share(value, field: str = "share", *, optional: bool = False) -> int | None:
    """A households' share typed in percent ('30', '12.5', '100') as basis points, exactly (no
    float); an int is taken as basis points already (the API). Empty: None when optional."""
    if isinstance(value, int) and not isinstance(value, bool):
        bp = value
    else:
        text = unicodedata.normalize("NFKC", str(value or "")).strip().rstrip("%").strip()
        if not text and optional:
            return None
        match = SHARE_RE.match(text)
        if not match:
            raise ValidationFailed("帮扶比例应为 0 到 100 之间的百分数，最多两位小数", field=field)
        bp = int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0"))
    if not 0 <= bp <= rules.SHARE_MAX_BP:
        raise ValidationFailed("帮扶比例应为 0 到 100 之间的百分数，最多两位小数", field=field)
    return bp


def set_seller_share(session: Session, actor: User, seller: Seller, share) -> None:
    """The households' share of the seller's sales (its products' default), in percent. Paid
    lines keep the share they were posted with."""
    policy.check_manage_seller(actor, seller)
    seller.household_share_bp = parse_share(share, "share")
    session.flush()


def set_product_terms(session: Session, actor: User, product: Product, *, share="",
                      lot_backed: bool = False, guaranteed_price="") -> None:
    """A product's attribution terms: its households' share in percent (empty: its seller's),
    whether it is attributed through supply lots (a cooperative's choice; an enterprise's always
    are) and its guaranteed minimum purchase price per unit (yuan text or fen; empty for none).
    Every problem is reported at once."""
    policy.check_manage_product(actor, product)
    seller = product.seller
    values = _all_checked({
        "share": lambda: parse_share(share, "share", optional=True),
        "guaranteed_price": lambda: _price(guaranteed_price, "guaranteed_price", optional=True),
    })
    guarantee = values["guaranteed_price"] or None
    if seller.kind not in LOT_SELLERS and (lot_backed or guarantee):
        raise RuleBroken("只有农民专业合作社和带农企业登记收购批次")
    product.household_share_bp = values["share"]
    product.lot_backed = is_lot_backed(seller, bool(lot_backed))
    product.guaranteed_price_fen = guarantee
    session.flush()


def remove_lot(session: Session, actor: User, seller: Seller, lot_id: int) -> None:
    """Delete a lot recorded by mistake: only while no sale has drawn on it."""
    _check_lot_seller(actor, seller)
    lot = session.get(SupplyLot, lot_id)
    if lot is None or lot.seller_id != seller.id:
        raise NotFound("未找到该收购批次")
    if lot.remaining != lot.quantity or session.scalar(
            select(func.count()).where(LotDraw.lot_id == lot.id)):
        raise Conflict("该批次已有销售计入农户收入，不能删除")
    lot_key, before = lot.id, {"product_id": lot.product_id, "product": lot.product.name,
                               "household": lot.household.code, "quantity": lot.quantity,
                               "unit_price_fen": lot.unit_price_fen,
                               "purchased_on": lot.purchased_on}
    session.delete(lot)
    session.flush()
    record(session, actor, AuditAction.lot_deleted, AuditObject.supply_lot, lot_key,
           before=before, parent=(AuditObject.seller, seller.id))


# ---- reading ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class LotFilter:
    """What a seller's list of lots is narrowed to; None is no narrowing."""
    product_id: int | None = None
    household_id: int | None = None
    flagged: bool = False  # only lots bought below the guaranteed minimum price


def seller_lots(session: Session, seller: Seller, filters: LotFilter = LotFilter(), *,
                page: int = 1, per_page: int = 50) -> Page[SupplyLot]:
    """One page of the seller's lots, newest purchase first."""
    stmt = select(SupplyLot).where(SupplyLot.seller_id == seller.id)
    if filters.product_id is not None:
        stmt = stmt.where(SupplyLot.product_id == filters.product_id)
    if filters.household_id is not None:
        stmt = stmt.where(SupplyLot.household_id == filters.household_id)
    if filters.flagged:
        stmt = stmt.where(SupplyLot.below_guarantee.is_(True))
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(SupplyLot.id).subquery())) or 0
    items = session.scalars(stmt.order_by(SupplyLot.purchased_on.desc(), SupplyLot.id.desc())
                            .offset((page - 1) * per_page).limit(per_page))
    return Page(list(items), total, page, per_page)


def remaining_by_product(session: Session, seller: Seller) -> dict[int, int]:
    return dict(session.execute(
        select(SupplyLot.product_id, func.sum(SupplyLot.remaining))
        .where(SupplyLot.seller_id == seller.id).group_by(SupplyLot.product_id)).all())


def flagged_lots(session: Session, roots: Sequence[Region] | None,
                 limit: int = 50) -> list[SupplyLot]:
    """Lots bought below the guaranteed minimum from households under `roots` (None: all),
    newest first."""
    village = Region.__table__.alias("village")
    stmt = (select(SupplyLot).join(Household, Household.id == SupplyLot.household_id)
            .join(village, village.c.id == Household.village_id)
            .where(SupplyLot.below_guarantee.is_(True), within(village.c.path, roots)))
    return list(session.scalars(stmt.order_by(SupplyLot.purchased_on.desc(),
                                              SupplyLot.id.desc()).limit(limit)))


# ---- drawing at posting -------------------------------------------------------------------------

def draw(session: Session, lines: Sequence[tuple[int, int, int]]) -> dict[int, list[rules.Draw]]:
    """Draw each (line id, product id, quantity) from its product's lots, first in first out;
    line id -> the draws (fewer units when the lots fall short). Lines go in product order so
    that concurrent sales lock lots in the same order."""
    conn = session.connection()
    found: dict[int, list[rules.Draw]] = {}
    rows = []
    for line_id, product_id, quantity in sorted(lines, key=lambda x: (x[1], x[0])):
        lots = [rules.Lot(*row) for row in conn.execute(sql.OPEN_LOTS, {"product": product_id})]
        draws = rules.draw_fifo(lots, quantity)
        for d in draws:
            if conn.execute(sql.TAKE_FROM_LOT, {"p_lot": d.lot_id, "p_quantity": d.quantity}
                            ).rowcount != 1:  # cannot happen under the lock; never overdraw
                raise Conflict("收购批次余量已变化，请重试")
            rows.append({"lot_id": d.lot_id, "order_line_id": line_id,
                         "household_id": d.household_id, "quantity": d.quantity})
        found[line_id] = draws
    if rows:
        conn.execute(sql.INSERT_DRAWS, rows)
    return found
