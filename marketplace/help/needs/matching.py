"""The match rate (对接率) of needs and micro-wishes, by region, category and period.

For a region (its villages' needs: the subtree; None is everywhere) and a period of China
dates (both ends included):

- `approved`: the needs approved in the period (`approved_at` in it), but for those the poster
  withdrew before any claim or an office removed on a flag (duplicates, inappropriate ones):
  they never were on the wall to be matched;
- `matched`: of those, the ones matched (`matched_at` set: claims or the pool's allocations cover
  them whole, `history.cover`; a lapsed claim clears it again), whenever that happened;
- `match_rate_bp`: matched / approved in basis points, rounded half up (None with nothing
  approved);
- `median_hours_to_review`: the median of the hours from posting to review of the needs
  reviewed in the period (`reviewed_at` in it: approved or sent back);
- `median_hours_to_match`: the median of the hours from posting to a match of the needs matched
  in the period (`matched_at` in it).

A median of an even count is the mean of the two middle values; hours are rounded half up to
one decimal (None when there is nothing to take the median of). Both kinds (need, wish) count
unless `kind` is given; `category` narrows to one category. Read with a few GROUP BYs and the
durations of the period's reviewed and matched needs (a county's are a few thousand at most).
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import and_, case, func, literal, select
from sqlalchemy.orm import Session

from marketplace.core.time import CHINA, as_aware
from marketplace.help.needs.models import (
    NEED_CATEGORY_LABELS,
    Need,
    NeedCategory,
    NeedKind,
    NeedStatus,
)
from marketplace.regions.models import Region
from marketplace.regions.services import subtree_condition

FULL = 10000
NOT_COUNTED = (NeedStatus.withdrawn, NeedStatus.removed)  # left out of `approved`


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded half away from zero, in integers."""
    q, r = divmod(abs(numerator), denominator)
    q += 1 if 2 * r >= denominator else 0
    return q if numerator >= 0 else -q


def median_hours(seconds: Iterable[int]) -> float | None:
    """The median of durations (whole seconds) in hours, one decimal, rounded half up; None of
    nothing. An even count's median is the mean of its two middle values."""
    values = sorted(seconds)
    if not values:
        return None
    n, mid = len(values), len(values) // 2
    if n % 2:
        tenths = round_half_up(values[mid] * 10, 3600)
    else:
        tenths = round_half_up((values[mid - 1] + values[mid]) * 10, 2 * 3600)
    return tenths / 10


@dataclass
class MatchFigures:
    approved: int = 0
    matched: int = 0
    review_seconds: list[int] = field(default_factory=list, repr=False)
    match_seconds: list[int] = field(default_factory=list, repr=False)

    @property
    def match_rate_bp(self) -> int | None:
        """matched / approved in basis points, rounded half up; None with nothing approved."""
        if self.approved <= 0:
            return None
        return round_half_up(self.matched * FULL, self.approved)

    @property
    def reviewed(self) -> int:
        return len(self.review_seconds)

    @property
    def matched_in_period(self) -> int:
        return len(self.match_seconds)

    @property
    def median_hours_to_review(self) -> float | None:
        return median_hours(self.review_seconds)

    @property
    def median_hours_to_match(self) -> float | None:
        return median_hours(self.match_seconds)


@dataclass
class MatchRow:
    key: str  # a sub-region's code, or a category
    name: str
    figures: MatchFigures


@dataclass
class MatchReport:
    region: Region | None
    start: date
    end: date
    total: MatchFigures
    by_region: list[MatchRow] = field(default_factory=list)  # the sub-regions one level down
    by_category: list[MatchRow] = field(default_factory=list)  # every category, in order


def bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's China dates as UTC times [from, until)."""
    return (datetime.combine(start, time(), CHINA).astimezone(UTC),
            datetime.combine(end + timedelta(days=1), time(), CHINA).astimezone(UTC))


def _seconds(later: datetime, earlier: datetime) -> int:
    return max(0, int((as_aware(later) - as_aware(earlier)).total_seconds()))


def match_report(session: Session, region: Region | None, start: date, end: date, *,
                 kind: NeedKind | str | None = None,
                 category: NeedCategory | str | None = None) -> MatchReport:
    """The match figures of `region` (None: everywhere) for the China dates start..end, in
    total, by sub-region one level down (those with any figure, by code) and by category
    (every category)."""
    since, until = bounds(start, end)
    depth = len(region.path_codes) if region is not None else 0
    where = [subtree_condition(Region.path, region) if region is not None else literal(True)]
    if kind:
        where.append(Need.kind == NeedKind(kind))
    if category:
        where.append(Need.category == NeedCategory(category))
    out = MatchReport(region, start, end, MatchFigures())
    regions: dict[str, MatchFigures] = {}
    categories: dict[str, MatchFigures] = {}

    def targets(path: str, cat) -> list[MatchFigures]:
        found = [out.total, categories.setdefault(str(cat), MatchFigures())]
        codes = path.strip("/").split("/")
        if len(codes) > depth:
            found.append(regions.setdefault(codes[depth], MatchFigures()))
        return found

    joined = select(Region.path, Need.category).join(Region, Region.id == Need.village_id)
    matched = func.sum(case((Need.matched_at.is_not(None), 1), else_=0))
    for path, cat, count, got in session.execute(
            joined.add_columns(func.count(), matched)
            .where(*where, Need.approved_at >= since, Need.approved_at < until,
                   Need.status.not_in(NOT_COUNTED))
            .group_by(Region.path, Need.category)):
        for f in targets(path, cat):
            f.approved += int(count)
            f.matched += int(got or 0)
    for path, cat, posted, reviewed in session.execute(
            joined.add_columns(Need.posted_at, Need.reviewed_at)
            .where(*where, and_(Need.reviewed_at >= since, Need.reviewed_at < until))):
        for f in targets(path, cat):
            f.review_seconds.append(_seconds(reviewed, posted))
    for path, cat, posted, at in session.execute(
            joined.add_columns(Need.posted_at, Need.matched_at)
            .where(*where, and_(Need.matched_at >= since, Need.matched_at < until))):
        for f in targets(path, cat):
            f.match_seconds.append(_seconds(at, posted))
    if regions:
        names = dict(session.execute(select(Region.code, Region.name)
                                     .where(Region.code.in_(sorted(regions)))).all())
        out.by_region = [MatchRow(code, names.get(code, code), regions[code])
                         for code in sorted(regions)]
    shown = [NeedCategory(category)] if category else list(NeedCategory)
    out.by_category = [MatchRow(c.value, NEED_CATEGORY_LABELS[c],
                                categories.get(c.value, MatchFigures())) for c in shown]
    return out


def match_rates(session: Session, region: Region | None, start: date, end: date,
                ) -> dict[str, int | None]:
    """Sub-region code -> its match rate (bp) for the period (the assessment's indicator);
    sub-regions without approved needs are left out."""
    found = match_report(session, region, start, end)
    return {row.key: row.figures.match_rate_bp for row in found.by_region
            if row.figures.approved}
