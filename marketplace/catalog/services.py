"""Products: create, edit, images, review workflow. Shoppers' queries live in catalog.queries."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date

from flask import current_app
from sqlalchemy import Integer, bindparam, func, select, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.audit.services import record
from marketplace.catalog import images as image_store
from marketplace.catalog.models import Category, Product, ProductImage, ProductStatus
from marketplace.core import policy
from marketplace.core.errors import IllegalTransition, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.money import MAX_PRICE_FEN, MoneyFormatError, parse_yuan
from marketplace.core.time import now_utc
from marketplace.regions.models import Region, RegionLevel
from marketplace.sellers.models import Seller

MAX_STOCK = 1_000_000
PRODUCTS = Product.__table__
# The seller holds n units: those unpaid orders hold stay held, the rest are free, in one
# statement (on hand = stock + held whatever holds change meanwhile); none if n < held.
_ON_HAND = bindparam("n", type_=Integer())
SET_ON_HAND = (update(PRODUCTS)
               .where(PRODUCTS.c.id == bindparam("pid"), PRODUCTS.c.held <= _ON_HAND)
               .values(stock=_ON_HAND - PRODUCTS.c.held))
# a change to any other field of a listed product sends it back for review
FIELDS_WITHOUT_REVIEW = {"price", "stock"}


@dataclass
class ProductInput:
    name: str | None = None
    category: str | None = None  # slug
    spec: str | None = None
    description: str | None = None
    price: str | int | None = None  # yuan text from forms, or int fen from the API
    stock: str | int | None = None  # the units on hand (those unpaid orders hold among them)
    # the on-hand count an edit form showed: a stock equal to it is left alone, so that saving a
    # form does not undo the sales made since it was shown
    stock_shown: str | int | None = None
    origin_code: str | None = None
    certificate_no: str | None = None
    certificate_valid_until: date | str | None = None
    provided: set[str] = field(default_factory=set)  # fields present (for partial updates)


@dataclass
class UploadedImage:
    filename: str
    data: bytes


def _config(name: str, default=None):
    try:
        return current_app.config.get(name, default)
    except RuntimeError:  # outside an app context (pure service tests pass explicit values)
        return default


def parse_price(value: str | int | None, *, fen: bool) -> int:
    if fen:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationFailed("价格必须是以分为单位的整数", field="price")
        price = value
    else:
        try:
            price = parse_yuan(value)
        except MoneyFormatError:
            raise ValidationFailed("请输入正确的价格（元），最多两位小数", field="price") from None
    if price <= 0:
        raise ValidationFailed("价格必须大于 0", field="price")
    if price > MAX_PRICE_FEN:
        raise ValidationFailed("价格不能超过 99,999.99 元", field="price")
    return price


def parse_stock(value) -> int:
    if isinstance(value, bool):
        raise ValidationFailed("库存必须是整数", field="stock")
    try:
        stock = int(str(value).strip())
    except (TypeError, ValueError):
        raise ValidationFailed("库存必须是整数", field="stock") from None
    if not 0 <= stock <= MAX_STOCK:
        raise ValidationFailed("库存应在 0 到 1,000,000 之间", field="stock")
    return stock


def _clean(session: Session, data: ProductInput, *, partial: bool, price_in_fen: bool) -> dict:
    """Validate every provided field; collect all problems into one error."""
    out: dict = {}
    errors: dict[str, list[str]] = {}

    def wanted(name: str) -> bool:
        return not partial or name in data.provided

    def check(name: str, fn):
        try:
            out[name] = fn()
        except ValidationFailed as err:
            errors.setdefault(name, []).append(err.message)

    if wanted("name"):
        def _name():
            value = (data.name or "").strip()
            if not 2 <= len(value) <= 100:
                raise ValidationFailed("商品名称应为 2 到 100 个字")
            return value
        check("name", _name)
    if wanted("category"):
        def _category():
            cat = session.scalar(select(Category).where(Category.slug == (data.category or "")))
            if cat is None:
                raise ValidationFailed("请选择商品分类")
            return cat
        check("category", _category)
    if wanted("spec"):
        def _spec():
            value = (data.spec or "").strip()
            if len(value) > 64:
                raise ValidationFailed("规格不能超过 64 个字")
            return value
        check("spec", _spec)
    if wanted("description"):
        def _desc():
            value = (data.description or "").strip()
            if len(value) > 5000:
                raise ValidationFailed("商品介绍不能超过 5000 个字")
            return value
        check("description", _desc)
    if wanted("price"):
        check("price", lambda: parse_price(data.price, fen=price_in_fen))
    if wanted("stock"):
        check("stock", lambda: parse_stock(data.stock))
    if wanted("origin_code"):
        def _origin():
            region = session.scalar(select(Region).where(
                Region.code == (data.origin_code or "").strip()))
            if region is None or region.level != RegionLevel.village:
                raise ValidationFailed("请选择产地（到村）")
            return region
        check("origin", _origin)
    if wanted("certificate_no"):
        def _cert():
            value = (data.certificate_no or "").strip()
            if len(value) > 64:
                raise ValidationFailed("认定证书号不能超过 64 个字符")
            return value
        check("certificate_no", _cert)
    if wanted("certificate_valid_until"):
        def _until():
            value = data.certificate_valid_until
            if value in (None, ""):
                return None
            if isinstance(value, date):
                return value
            try:
                return date.fromisoformat(str(value))
            except ValueError:
                raise ValidationFailed("证书有效期格式应为 YYYY-MM-DD") from None
        check("certificate_valid_until", _until)
    if not errors:
        cert_no = out.get("certificate_no")
        until = out.get("certificate_valid_until")
        if cert_no and "certificate_valid_until" in out and until is None:
            errors["certificate_valid_until"] = ["填写认定证书号时必须填写有效期"]
    if errors:
        raise ValidationFailed(next(iter(errors.values()))[0], errors=errors)
    return out


def create_product(session: Session, actor: User, seller: Seller, data: ProductInput,
                   uploads: list[UploadedImage] | None = None, *, price_in_fen: bool = False,
                   submit: bool = False) -> Product:
    policy.check_manage_seller(actor, seller)
    values = _clean(session, data, partial=False, price_in_fen=price_in_fen)
    product = Product(
        sku=f"P{seller.id:04d}{secrets.token_hex(3).upper()}", seller=seller,
        name=values["name"], category=values["category"], spec=values["spec"],
        description=values["description"], price_fen=values["price"], stock=values["stock"],
        origin=values["origin"], certificate_no=values["certificate_no"],
        certificate_valid_until=values["certificate_valid_until"], status=ProductStatus.draft)
    session.add(product)
    session.flush()
    if uploads:
        add_images(session, actor, product, uploads)
    if submit:
        submit_for_review(session, actor, product)
    return product


def set_on_hand(session: Session, product: Product, on_hand: int) -> None:
    """The seller holds `on_hand` units of the product: the units unpaid orders hold stay held,
    the others are free to sell (stock = on hand - held). Fewer than are held is refused."""
    conn = session.connection()
    if conn.execute(SET_ON_HAND, {"pid": product.id, "n": on_hand}).rowcount != 1:
        held = conn.execute(select(PRODUCTS.c.held).where(PRODUCTS.c.id == product.id)).scalar()
        raise ValidationFailed(Msg("有 %(held)s 件已被未付款订单或团购占用，库存不能少于此数",
                                   held=held), field="stock")
    session.expire(product, ["stock", "held"])
    product.updated_at = now_utc()  # a change the flush writes: the search index hears of it


def _shown(value) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def update_product(session: Session, actor: User, product: Product, data: ProductInput, *,
                   price_in_fen: bool = False) -> Product:
    policy.check_manage_product(actor, product)
    values = _clean(session, data, partial=True, price_in_fen=price_in_fen)
    mapping = {"price": "price_fen"}
    changed: set[str] = set()
    on_hand = values.pop("stock", None)
    if on_hand is not None and on_hand != _shown(data.stock_shown):
        set_on_hand(session, product, on_hand)
        changed.add("stock")
    for key, value in values.items():
        attr = mapping.get(key, key)
        if getattr(product, attr) != value:
            setattr(product, attr, value)
            changed.add(key)
    if "certificate_no" in changed or "certificate_valid_until" in changed:
        product.certificate_checked = False
    if (product.status == ProductStatus.listed and changed - FIELDS_WITHOUT_REVIEW
            and not policy.is_admin(actor)):
        product.status = ProductStatus.pending
        product.submitted_at = now_utc()
        product.review_note = ""
    session.flush()
    return product


def add_images(session: Session, actor: User, product: Product,
               uploads: list[UploadedImage]) -> list[ProductImage]:
    policy.check_manage_product(actor, product)
    limit = _config("MAX_IMAGES_PER_PRODUCT", 5)
    uploads = [u for u in uploads if u.data or u.filename]
    if len(product.images) + len(uploads) > limit:
        raise ValidationFailed(Msg("每个商品最多 %(limit)s 张图片", limit=limit), field="images")
    folder = _config("UPLOAD_FOLDER")
    stored: list[image_store.StoredImage] = []
    try:
        for index, upload in enumerate(uploads, start=1):
            stored.append(image_store.store(
                upload.data, folder, max_bytes=_config("MAX_IMAGE_BYTES", 5 * 1024 * 1024),
                max_side=_config("IMAGE_MAX_SIDE", 1200),
                thumb_side=_config("IMAGE_THUMB_SIDE", 400),
                label=Msg("第 %(index)s 张图片（%(name)s）", index=index,
                          name=upload.filename or Msg("未命名"))))
    except Exception:
        for s in stored:
            image_store.remove_files(folder, s.filename, s.thumb_filename)
        raise
    start = max((i.position for i in product.images), default=0) + 1
    created = []
    try:
        for offset, s in enumerate(stored):
            img = ProductImage(position=start + offset, filename=s.filename,
                               thumb_filename=s.thumb_filename, width=s.width, height=s.height)
            product.images.append(img)
            created.append(img)
        session.flush()
    except Exception:
        # the rows did not make it: do not leave their files behind
        for s in stored:
            image_store.remove_files(folder, s.filename, s.thumb_filename)
        raise
    for s in stored:  # and if the transaction is rolled back later, the files go with it
        image_store.track_new(session, folder, s.filename, s.thumb_filename)
    return created


def remove_image(session: Session, actor: User, product: Product, image_id: int) -> None:
    policy.check_manage_product(actor, product)
    image = next((i for i in product.images if i.id == image_id), None)
    if image is None:
        raise ValidationFailed("未找到该图片", field="images")
    product.images.remove(image)
    session.flush()
    image_store.delete_after_commit(session, _config("UPLOAD_FOLDER"), image.filename,
                                    image.thumb_filename)


# ---- review workflow -------------------------------------------------------------------------

def submit_for_review(session: Session, actor: User, product: Product) -> None:
    policy.check_manage_product(actor, product)
    if product.status not in (ProductStatus.draft, ProductStatus.rejected, ProductStatus.delisted):
        raise IllegalTransition(Msg("“%(status)s”状态的商品不能提交审核",
                                     status=Msg(product.status_label)))
    product.status = ProductStatus.pending
    product.submitted_at = now_utc()
    product.review_note = ""


def approve(session: Session, actor: User, product: Product, *,
            certificate_checked: bool = False) -> None:
    policy.check_admin(actor)
    if product.status != ProductStatus.pending:
        raise IllegalTransition("只有待审核的商品可以通过审核")
    before = {"status": product.status, "certificate_checked": product.certificate_checked}
    product.status = ProductStatus.listed
    product.listed_at = now_utc()
    product.review_note = ""
    product.certificate_checked = bool(certificate_checked and product.certificate_no)
    record(session, actor, AuditAction.product_approved, AuditObject.product, product.id,
           before=before, after={"status": product.status,
                                 "certificate_checked": product.certificate_checked},
           parent=(AuditObject.seller, product.seller_id))


def reject(session: Session, actor: User, product: Product, reason: str) -> None:
    policy.check_admin(actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed("请填写驳回原因", field="reason")
    if product.status != ProductStatus.pending:
        raise IllegalTransition("只有待审核的商品可以驳回")
    before = product.status
    product.status = ProductStatus.rejected
    product.review_note = reason[:200]
    record(session, actor, AuditAction.product_rejected, AuditObject.product, product.id,
           before={"status": before}, after={"status": product.status},
           note=product.review_note, parent=(AuditObject.seller, product.seller_id))


def delist(session: Session, actor: User, product: Product, reason: str = "") -> None:
    policy.check_manage_product(actor, product)
    if product.status not in (ProductStatus.listed, ProductStatus.pending):
        raise IllegalTransition("只有已上架或待审核的商品可以下架")
    product.status = ProductStatus.delisted
    product.review_note = (reason or "").strip()[:200]


def change_status(session: Session, actor: User, product: Product, status: str) -> None:
    """The API's status field: staff submit ('pending') or delist; admins also list."""
    try:
        target = ProductStatus(status)
    except ValueError:
        raise ValidationFailed("未知的商品状态", field="status") from None
    if target == product.status:
        return
    if target == ProductStatus.pending:
        submit_for_review(session, actor, product)
    elif target == ProductStatus.delisted:
        delist(session, actor, product)
    elif target == ProductStatus.listed:
        approve(session, actor, product, certificate_checked=product.certificate_checked)
    else:
        raise IllegalTransition(Msg("不能把商品改为“%(status)s”状态", status=str(target)))


def get_managed(session: Session, actor: User, product_id: int) -> Product:
    product = session.get(Product, product_id)
    policy.check_manage_product(actor, product)
    return product


def review_queue(session: Session) -> list[Product]:
    return list(session.scalars(select(Product).where(Product.status == ProductStatus.pending)
                                .order_by(Product.submitted_at, Product.id)))


def seller_products(session: Session, seller: Seller, status: str | None = None) -> list[Product]:
    stmt = select(Product).where(Product.seller_id == seller.id)
    if status:
        stmt = stmt.where(Product.status == status)
    return list(session.scalars(stmt.order_by(Product.updated_at.desc(), Product.id.desc())))


def status_counts(session: Session, seller: Seller) -> dict[str, int]:
    return dict(session.execute(select(Product.status, func.count()).where(
        Product.seller_id == seller.id).group_by(Product.status)).all())


def categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.sort_order, Category.id)))
