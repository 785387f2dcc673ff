"""What shoppers see: only listed products of verified sellers, with filters, sorts and pages."""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from marketplace.catalog.models import Category, Product, ProductStatus
from marketplace.core.errors import NotFound
from marketplace.core.money import MAX_PRICE_FEN, MoneyFormatError, parse_yuan
from marketplace.regions.models import Region
from marketplace.sellers.models import Seller, SellerStatus

MAX_PER_PAGE = 100
MAX_PAGE = 10_000


class Sort(StrEnum):
    relevance = "relevance"  # best match for q; newest first without q
    price_asc = "price_asc"  # cheapest first
    price_desc = "price_desc"  # dearest first
    newest = "newest"  # most recently listed first


SORT_LABELS = {Sort.relevance: "综合", Sort.newest: "最新上架", Sort.price_asc: "价格从低到高",
               Sort.price_desc: "价格从高到低"}


@dataclass
class CatalogFilters:
    q: str = ""
    category: str = ""
    region: str = ""
    seller: int | None = None
    min_price: int | None = None  # fen
    max_price: int | None = None  # fen
    in_stock: bool = False
    sort: Sort = Sort.relevance
    page: int = 1
    per_page: int = 24


@dataclass
class Page:
    items: list[Product]
    total: int
    page: int
    per_page: int
    filters: CatalogFilters
    region: Region | None = None
    category: Category | None = None
    problems: dict[str, str] = field(default_factory=dict)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _int(value, default=None):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default


def parse_filters(args, *, per_page_default: int, money_in_fen: bool) -> tuple[CatalogFilters,
                                                                               dict[str, str]]:
    """Read query arguments; bad values are reported per argument (the API answers 400 for them,
    the storefront ignores them)."""
    problems: dict[str, str] = {}
    f = CatalogFilters(per_page=per_page_default)
    f.q = (args.get("q") or "").strip()[:200]
    f.category = (args.get("category") or "").strip()[:32]
    f.region = (args.get("region") or "").strip()[:12]
    if f.region and not f.region.isdigit():
        problems["region"] = "地区代码应为数字"
        f.region = ""
    if args.get("seller"):
        f.seller = _int(args.get("seller"))
        if f.seller is None:
            problems["seller"] = "经营主体编号应为整数"
    for key in ("min_price", "max_price"):
        raw = args.get(key)
        if raw in (None, ""):
            continue
        try:
            value = _int(raw) if money_in_fen else parse_yuan(raw)
            if value is None or value < 0 or value > MAX_PRICE_FEN * 100:
                raise MoneyFormatError
            setattr(f, key, value)
        except MoneyFormatError:
            problems[key] = "价格应为非负数" + ("（单位：分）" if money_in_fen else "（单位：元）")
    f.in_stock = str(args.get("in_stock", "")).lower() in {"1", "true", "yes", "on"}
    sort = args.get("sort") or Sort.relevance
    try:
        f.sort = Sort(sort)
    except ValueError:
        problems["sort"] = "排序方式应为 relevance、price_asc、price_desc 或 newest"
    page = _int(args.get("page"), 1) if args.get("page") else 1
    if page is None or not 1 <= page <= MAX_PAGE:
        problems["page"] = "页码应为正整数"
        page = 1
    f.page = page
    if args.get("per_page"):
        per_page = _int(args.get("per_page"))
        if per_page is None or not 1 <= per_page <= MAX_PER_PAGE:
            problems["per_page"] = f"每页数量应在 1 到 {MAX_PER_PAGE} 之间"
        else:
            f.per_page = per_page
    return f, problems


def visible_condition():
    return (Product.status == ProductStatus.listed) & (Seller.status == SellerStatus.verified)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def browse(session: Session, f: CatalogFilters) -> Page:
    base = select(Product).join(Seller, Product.seller_id == Seller.id).where(visible_condition())
    region = category = None
    if f.category:
        category = session.scalar(select(Category).where(Category.slug == f.category))
        base = base.where(Product.category_id == (category.id if category else -1))
    if f.region:
        region = session.scalar(select(Region).where(Region.code == f.region))
        if region is None:
            base = base.where(Product.id == -1)
        else:
            base = base.join(Region, Product.origin_id == Region.id).where(
                Region.path.like(region.path + "%"))
    if f.seller is not None:
        base = base.where(Product.seller_id == f.seller)
    if f.min_price is not None:
        base = base.where(Product.price_fen >= f.min_price)
    if f.max_price is not None:
        base = base.where(Product.price_fen <= f.max_price)
    if f.in_stock:
        base = base.where(Product.stock > 0)
    if f.q:
        # plain substring match for now; the search issue replaces this with the index
        for term in f.q.split()[:5]:
            pattern = f"%{_like_escape(term)}%"
            base = base.where(or_(Product.name.like(pattern, escape="\\"),
                                  Product.description.like(pattern, escape="\\"),
                                  Seller.name.like(pattern, escape="\\")))
    total = session.scalar(select(func.count()).select_from(
        base.with_only_columns(Product.id).subquery()))
    order = {
        Sort.price_asc: (Product.price_fen.asc(), Product.id.asc()),
        Sort.price_desc: (Product.price_fen.desc(), Product.id.desc()),
        Sort.newest: (Product.listed_at.desc(), Product.id.desc()),
        Sort.relevance: (Product.featured.desc(), Product.listed_at.desc(), Product.id.desc()),
    }[f.sort]
    stmt = (base.options(selectinload(Product.images)).order_by(*order)
            .offset((f.page - 1) * f.per_page).limit(f.per_page))
    items = list(session.scalars(stmt).unique())
    return Page(items=items, total=total or 0, page=f.page, per_page=f.per_page, filters=f,
                region=region, category=category)


def get_visible(session: Session, product_id: int) -> Product:
    product = session.scalar(select(Product).join(Seller, Product.seller_id == Seller.id).where(
        Product.id == product_id, visible_condition()))
    if product is None:
        raise NotFound("商品不存在或已下架")
    return product


def featured(session: Session, limit: int = 8) -> list[Product]:
    stmt = (select(Product).join(Seller, Product.seller_id == Seller.id)
            .where(visible_condition())
            .order_by(Product.featured.desc(), Product.listed_at.desc(), Product.id.desc())
            .options(selectinload(Product.images)).limit(limit))
    return list(session.scalars(stmt).unique())


def category_counts(session: Session) -> list[tuple[Category, int]]:
    counts = dict(session.execute(
        select(Product.category_id, func.count()).join(Seller, Product.seller_id == Seller.id)
        .where(visible_condition()).group_by(Product.category_id)).all())
    cats = session.scalars(select(Category).order_by(Category.sort_order, Category.id))
    return [(c, counts.get(c.id, 0)) for c in cats]


def region_counts(session: Session, level: str = "county") -> list[tuple[Region, int]]:
    """Listed products per region at a level (counties by default), for the home page."""
    regions = list(session.scalars(select(Region).where(Region.level == level)
                                   .order_by(Region.code)))
    out = []
    for region in regions:
        n = session.scalar(select(func.count()).select_from(Product)
                           .join(Seller, Product.seller_id == Seller.id)
                           .join(Region, Product.origin_id == Region.id)
                           .where(visible_condition(), Region.path.like(region.path + "%")))
        out.append((region, n or 0))
    return out
