"""What a shopper's catalogue query asks (`CatalogFilters`, read from query arguments by
`parse_filters`) and what the search index answers for it (`SearchHits`). `queries` runs them."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from sqlalchemy.orm import Session

from marketplace.core.i18n import Msg
from marketplace.core.inputs import BIGINT_MAX, bounded_int
from marketplace.core.money import MAX_PRICE_FEN, MoneyFormatError, parse_yuan
from marketplace.core.pager import page_number

MAX_PER_PAGE = 100


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
class SearchHits:
    """What the search index answered for a query: the page's product ids in order, how many
    match in all, facet counts, and the parsed terms (for highlighting)."""
    ids: list[int]
    total: int
    category_counts: dict[int, int] = field(default_factory=dict)
    county_counts: dict[str, int] = field(default_factory=dict)
    terms: list = field(default_factory=list)


# (session, filters) -> hits, or None when the index can't answer (the database then does)
Searcher = Callable[[Session, "CatalogFilters"], SearchHits | None]


def _int(value) -> int | None:
    return bounded_int(value, -BIGINT_MAX, BIGINT_MAX)


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
    if args.get("page"):
        page = page_number(args.get("page"))
        if page is None:
            problems["page"] = "页码应为正整数"
        f.page = page or 1
    if args.get("per_page"):
        per_page = bounded_int(args.get("per_page"), 1, MAX_PER_PAGE)
        if per_page is None:
            problems["per_page"] = Msg("每页数量应在 1 到 %(max)s 之间", max=MAX_PER_PAGE)
        else:
            f.per_page = per_page
    return f, problems
