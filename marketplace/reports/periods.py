"""Report periods (pure): China dates, both ends included.

A period is named like the API's `period` (`2026-11` a month, `2026-Q3` a quarter, `2026` a
year) or given by dates (`from`/`to`). `previous` is the period of the same kind just before
(the month, quarter or year before; for dates, as many days before), `year_before` the same
dates a year earlier (29 February becomes the 28th).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg

MONTH, QUARTER, YEAR, DAYS = "month", "quarter", "year", "days"
MAX_DAYS = 3 * 366 + 1  # the longest custom period
_NAMED = re.compile(r"^(\d{4})(?:-(?:(\d{1,2})|[Qq]([1-4])))?$")


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # included
    kind: str = DAYS

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def name(self) -> str:
        """`2026-11`, `2026-Q3`, `2026`, or `2026-11-03~2026-11-20`."""
        if self.kind == MONTH:
            return f"{self.start:%Y-%m}"
        if self.kind == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == YEAR:
            return f"{self.start.year}"
        return f"{self.start.isoformat()}~{self.end.isoformat()}"

    @property
    def label(self) -> Msg:
        """Chinese, for titles: 2026年11月, 2026年第3季度, 2026年, 2026-11-03 至 2026-11-20."""
        if self.kind == MONTH:
            return Msg("%(y)s年%(m)s月", y=self.start.year, m=self.start.month)
        if self.kind == QUARTER:
            return Msg("%(y)s年第%(q)s季度", y=self.start.year, q=(self.start.month - 1) // 3 + 1)
        if self.kind == YEAR:
            return Msg("%(y)s年", y=self.start.year)
        return Msg("%(a)s 至 %(b)s", a=self.start.isoformat(), b=self.end.isoformat())

    @property
    def key(self) -> int | None:
        """The key of a month (202611), quarter (20264) or year (2026) in the pre-aggregate
        `household_periods` (`ledger.rollup.period_keys`); None for other dates."""
        if self.kind == MONTH:
            return self.start.year * 100 + self.start.month
        if self.kind == QUARTER:
            return self.start.year * 10 + (self.start.month - 1) // 3 + 1
        if self.kind == YEAR:
            return self.start.year
        return None

    def months(self) -> list[int]:
        """The months (202611) the period touches, in order."""
        out, y, m = [], self.start.year, self.start.month
        while (y, m) <= (self.end.year, self.end.month):
            out.append(y * 100 + m)
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return out


def month(year: int, m: int) -> Period:
    start = date(year, m, 1)
    following = date(year + 1, 1, 1) if m == 12 else date(year, m + 1, 1)
    return Period(start, following - timedelta(days=1), MONTH)


def quarter(year: int, q: int) -> Period:
    first = month(year, 3 * q - 2)
    return Period(first.start, month(year, 3 * q).end, QUARTER)


def year(y: int) -> Period:
    return Period(date(y, 1, 1), date(y, 12, 31), YEAR)


def parse(text: str) -> Period:
    """`2026-11`, `2026-Q3` or `2026`; a clear Chinese error otherwise."""
    found = _NAMED.match((text or "").strip())
    if found:
        y, m, q = int(found.group(1)), found.group(2), found.group(3)
        if 2000 <= y <= 2100:
            if m is None and q is None:
                return year(y)
            if q is not None:
                return quarter(y, int(q))
            if 1 <= int(m) <= 12:
                return month(y, int(m))
    raise ValidationFailed(Msg("统计期“%(text)s”无法识别：请写 2026-11（月）、2026-Q3（季度）或 "
                               "2026（年）", text=(text or "")[:20]), field="period")


def between(start: date, end: date) -> Period:
    """A period of dates; a whole month, quarter or year is named as such."""
    if end < start:
        raise ValidationFailed("结束日期不能早于开始日期", field="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise ValidationFailed(Msg("统计期最长 %(n)s 天", n=MAX_DAYS), field="to")
    for candidate in (month(start.year, start.month), quarter(start.year, (start.month + 2) // 3),
                      year(start.year)):
        if (candidate.start, candidate.end) == (start, end):
            return candidate
    return Period(start, end, DAYS)


def parse_date(text: str, field: str) -> date:
    try:
        day = date.fromisoformat((text or "").strip())
    except ValueError:
        raise ValidationFailed(Msg("日期“%(text)s”格式不对，应为 2026-11-03", text=(text or "")[:20]),
                               field=field) from None
    if not 2000 <= day.year <= 2100:
        raise ValidationFailed("日期应在 2000 年到 2100 年之间", field=field)
    return day


def from_args(args, today: date) -> Period:
    """The period a request asks for: `period`, or `from` and `to` (either may be left out: the
    month's first day, today); this month when nothing is given."""
    if args.get("period"):
        return parse(args["period"])
    start, end = args.get("from"), args.get("to")
    if start or end:
        start_day = parse_date(start, "from") if start else None
        end_day = parse_date(end, "to") if end else today
        start_day = start_day or end_day.replace(day=1)
        return between(start_day, end_day)
    return month(today.year, today.month)


def previous(period: Period) -> Period:
    if period.kind == MONTH:
        before = period.start - timedelta(days=1)
        return month(before.year, before.month)
    if period.kind == QUARTER:
        before = period.start - timedelta(days=1)
        return quarter(before.year, (before.month + 2) // 3)
    if period.kind == YEAR:
        return year(period.start.year - 1)
    return Period(period.start - timedelta(days=period.days), period.start - timedelta(days=1))


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 1, day=28)


def year_before(period: Period) -> Period:
    if period.kind in (MONTH, QUARTER, YEAR):
        return {MONTH: lambda: month(period.start.year - 1, period.start.month),
                QUARTER: lambda: quarter(period.start.year - 1, (period.start.month + 2) // 3),
                YEAR: lambda: year(period.start.year - 1)}[period.kind]()
    return Period(_year_earlier(period.start), _year_earlier(period.end))


def presets(today: date) -> list[tuple[str, Period]]:
    """The choices a page offers: this month, last month, this quarter, last quarter, this
    year, last year (keys for the links)."""
    this_month = month(today.year, today.month)
    this_quarter = quarter(today.year, (today.month + 2) // 3)
    return [("this_month", this_month), ("last_month", previous(this_month)),
            ("this_quarter", this_quarter), ("last_quarter", previous(this_quarter)),
            ("this_year", year(today.year)), ("last_year", year(today.year - 1))]


def change_bp(now: int, before: int) -> int | None:
    """Change from `before` to `now` in basis points (+1250 is +12.5%); None when there was
    nothing before."""
    if before <= 0:
        return None
    return round_half_up((now - before) * 10000, before)


def share_bp(part: int, whole: int) -> int:
    """part / whole in basis points, rounded half up; 0 of nothing."""
    return round_half_up(part * 10000, whole) if whole > 0 else 0


def round_half_up(numerator: int, denominator: int) -> int:
    """numerator / denominator (denominator > 0) rounded half away from zero, in integers."""
    q, r = divmod(abs(numerator), denominator)
    q += 1 if 2 * r >= denominator else 0
    return q if numerator >= 0 else -q
