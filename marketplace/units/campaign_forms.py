"""The group purchase forms: opening a campaign (its products and tier rows read from the posted
form, since their number varies), joining with an address, and quantities per product.

Times are typed in China time (datetime-local inputs) and handed to the services as UTC."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields import DateTimeLocalField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from marketplace.core.forms import Form
from marketplace.core.i18n import Msg
from marketplace.core.inputs import bounded_int, id_value, text_problem
from marketplace.core.money import MoneyFormatError, parse_yuan
from marketplace.core.time import CHINA
from marketplace.orders.services import AddressInput
from marketplace.units import rules
from marketplace.units.campaigns import MAX_PARTICIPANT_QUANTITY, ProductTerms

MAX_PRODUCT_ROWS = 5
TIER_ROWS = 4
MAX_TIER_QUANTITY = 100_000
LOCAL = "%Y-%m-%dT%H:%M"


class AddressFields:
    """收件人, 手机, 省 > 市 > 区县, 详细地址 (as the checkout has them; orders/checkout.html)."""

    recipient = StringField(_l("收件人"), validators=[Optional(), Length(max=32)])
    mobile = StringField(_l("手机号码"), validators=[Optional(), Length(max=20)])
    province = SelectField(_l("省份"), validate_choice=False)
    city = SelectField(_l("城市"), validate_choice=False)
    region_code = SelectField(_l("区县"), validate_choice=False)
    detail = StringField(_l("详细地址"), validators=[Optional(), Length(max=200)])

    def address(self) -> AddressInput | None:
        """The typed address, None when nothing was typed."""
        values = (self.recipient.data, self.mobile.data, self.region_code.data, self.detail.data)
        if not any((v or "").strip() for v in values):
            return None
        return AddressInput(*((v or "").strip() for v in values))


class CampaignForm(AddressFields, Form):
    unit = SelectField(_l("发起单位"), validate_choice=True)
    title = StringField(_l("团购名称"), validators=[DataRequired(_l("请填写团购名称")),
                                                  Length(min=2, max=100)])
    description = TextAreaField(_l("说明"), validators=[Optional(), Length(max=2000)])
    minimum_quantity = IntegerField(_l("成团数量（件，所有商品合计）"), validators=[
        InputRequired(_l("请填写成团数量")), NumberRange(1, 100_000)])
    per_person_limit = IntegerField(_l("每人限购（件）"), validators=[
        InputRequired(_l("请填写每人限购数量")), NumberRange(1, MAX_PARTICIPANT_QUANTITY)])
    starts_at = DateTimeLocalField(_l("开始时间（北京时间，留空为现在）"), format=LOCAL,
                                   validators=[Optional()])
    deadline = DateTimeLocalField(_l("截止时间（北京时间）"), format=LOCAL,
                                  validators=[InputRequired(_l("请填写截止时间"))])
    delivery = SelectField(_l("配送方式"), choices=[
        ("individual", _l("各自收货、各自付款")), ("consolidated", _l("统一配送到单位，由单位付款"))])
    audience = SelectField(_l("参与范围"), choices=[
        ("members", _l("仅限本单位成员")), ("link", _l("任何拿到链接的人"))])

    @staticmethod
    def utc(value: datetime | None) -> datetime | None:
        """A datetime-local value (China time) as UTC."""
        return value.replace(tzinfo=CHINA).astimezone(timezone.utc) if value else None


class JoinForm(AddressFields, Form):
    idempotency_key = HiddenField()


# ---- product and tier rows ------------------------------------------------------------------------

@dataclass
class ProductRow:
    product_id: str = ""
    tiers: list[tuple[str, str]] = field(default_factory=list)  # (min quantity, price in yuan)
    errors: list[str] = field(default_factory=list)


def row_count(form_data) -> int:
    """How many product rows the form shows: as posted (one more after 添加商品)."""
    n = bounded_int(form_data.get("product_rows"), 1, MAX_PRODUCT_ROWS) or 1
    if form_data.get("add_product"):
        n = min(n + 1, MAX_PRODUCT_ROWS)
    return n


def product_rows(form_data, count: int) -> list[ProductRow]:
    """The rows as typed (to show them again), TIER_ROWS tier rows each."""
    rows = []
    for i in range(count):
        rows.append(ProductRow(
            (form_data.get(f"product_{i}") or "").strip(),
            [((form_data.get(f"tier_{i}_{j}_min") or "").strip(),
              (form_data.get(f"tier_{i}_{j}_price") or "").strip()) for j in range(TIER_ROWS)]))
    return rows


def product_terms(rows: list[ProductRow]) -> list[ProductTerms] | None:
    """The rows as the service's terms; None (with each row's problems on it) when a row
    cannot be read. A row without a product is left out; tier rows left empty too."""
    terms, ok = [], True
    for row in rows:
        if not row.product_id:
            continue
        product_id = id_value(row.product_id)
        if product_id is None:
            row.errors.append(Msg("请选择商品"))
            ok = False
            continue
        tiers = []
        for j, (quantity, price) in enumerate(row.tiers, start=1):
            if not quantity and not price:
                continue
            problem = text_problem(quantity) or text_problem(price)
            q = bounded_int(quantity, 1, MAX_TIER_QUANTITY) if problem is None else None
            try:
                fen = parse_yuan(price) if problem is None else None
            except MoneyFormatError:
                fen = None
            if q is None or fen is None:
                row.errors.append(Msg("第 %(n)s 档：起团数量应为 1–%(top)s 的整数，价格以元填写，"
                                      "例如 45.00", n=j, top=MAX_TIER_QUANTITY))
                ok = False
                continue
            tiers.append(rules.Tier(q, fen))
        terms.append(ProductTerms(product_id, tiers))
    return terms if ok else None


def quantities(form_data, product_ids) -> dict[int, int] | None:
    """Quantities posted as q_<product id> (empty is 0); None when one is not a number."""
    out = {}
    for pid in product_ids:
        raw = (form_data.get(f"q_{pid}") or "").strip()
        if not raw:
            out[pid] = 0
            continue
        n = bounded_int(raw, 0, 100_000)
        if n is None:
            return None
        out[pid] = n
    return out


def product_choices(session, user, for_unit: bool) -> list[tuple[str, str]]:
    """The products a campaign may offer: listed ones of verified sellers (a seller's public
    campaign: its own), by seller and name."""
    from flask_babel import gettext as _
    from sqlalchemy import select

    from marketplace.catalog.models import Product, ProductStatus
    from marketplace.core import policy
    from marketplace.core.money import format_fen
    from marketplace.sellers.models import Seller, SellerStatus
    query = (select(Product).join(Seller, Seller.id == Product.seller_id)
             .where(Product.status == ProductStatus.listed,
                    Seller.status == SellerStatus.verified))
    if not for_unit and not policy.is_admin(user):
        query = query.where(Product.seller_id.in_(user.seller_ids() or {0}))
    products = session.scalars(query.order_by(Seller.name, Product.name).limit(500)).all()
    return [("", _("请选择商品"))] + [
        (str(p.id), f"{p.name} {p.spec} · {format_fen(p.price_fen)} · {p.seller.name}")
        for p in products]


def local(value: datetime | None) -> str:
    """A stored time as a datetime-local value in China time."""
    return value.astimezone(CHINA).strftime(LOCAL) if value else ""
