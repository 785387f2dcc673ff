"""Paged lists: the one `Page` every paged list hands its template (and `macros.pagination`
reads), and the one bounded-integer parse for query arguments such as ?page= and ?per_page=."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

MAX_PAGE = 10_000  # deeper pages are not worth a query


def bounded_int(raw, low: int, high: int) -> int | None:
    """`raw` (a query or form value) as an integer from `low` to `high`; None when it is
    missing, not a whole number in plain digits (an optional minus sign) or out of range."""
    text = str(raw).strip() if raw is not None else ""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):
        return None
    value = int(text)
    return value if low <= value <= high else None


def page_number(raw) -> int | None:
    """A ?page= value as a page number (1 to MAX_PAGE), None when it is not one."""
    return bounded_int(raw, 1, MAX_PAGE)


def requested_page(args) -> int:
    """The page a web list was asked for (?page= in `args`); the first for anything else."""
    return page_number(args.get("page")) or 1


@dataclass
class Page(Generic[T]):
    """One page of a list: its items, how many there are in all, which page of how many."""

    items: list[T]
    total: int
    page: int = 1
    per_page: int = 50

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages
