"""Paged lists: the one `Page` every paged list hands its template (and `macros.pagination`
reads), and ?page= read with the one bounded-integer rule (core.inputs.bounded_int)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from marketplace.core.inputs import bounded_int  # the one bounded-integer rule

T = TypeVar("T")

MAX_PAGE = 10_000  # deeper pages are not worth a query


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
