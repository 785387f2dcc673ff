"""Every table of an office's report as xlsx and CSV.

`table(name, report, ...)` answers a table's (headers, rows) with typed cells (`Money` in fen,
`Percent` in basis points, counts, texts); `xlsx(title, headers, rows)` writes one sheet through
`units.exports` (title row, Chinese headers, yuan with two decimals as numbers, percentages,
frozen header, widths), `csv_text(headers, rows)` the same as UTF-8 CSV with a BOM (yuan as text
with two decimals), `workbook(report, ...)` every table, one sheet each (the CLI's export).

Tables (TABLES): summary (the figures, the period before, a year before and the changes),
regions (the sub-regions one level down, or a village's households, and the total), channels,
categories, seller_kinds, trend (by month), ranking (an assessment's rows), targeting (the
households without attributed income) and needs (the match rate of needs by sub-region and
category, help.needs.matching). Headers and titles are Chinese, shown in the user's
language when the catalogue has it (`translate_message`).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import date
from urllib.parse import quote

from marketplace.core.i18n import Msg, translate_message
from marketplace.core.money import fen_to_yuan_text
from marketplace.households.models import HOUSEHOLD_STATUS_LABELS, HouseholdStatus
from marketplace.regions.models import Region
from marketplace.reports import periods
from marketplace.reports.periods import Period
from marketplace.reports.shapes import Figures, Report, Split
from marketplace.units.exports import XLSX_MIMETYPE, Money, Percent, Sheet, sheets_bytes

__all__ = ["TABLES", "XLSX_MIMETYPE", "CSV_MIMETYPE", "table", "title", "sheet_name", "xlsx",
           "csv_text", "sheet", "workbook_of", "workbook", "filename", "ascii_filename",
           "content_disposition", "region_name"]

CSV_MIMETYPE = "text/csv; charset=utf-8"
TABLES = ("summary", "regions", "channels", "categories", "seller_kinds", "trend", "ranking",
          "targeting", "needs")
REPORT_TABLES = TABLES[:6]  # those read from a figures.Report

# the sheet's tab and the title's last words
TABLE_NAMES = {
    "summary": "汇总", "regions": "分地区", "channels": "分渠道", "categories": "分品类",
    "seller_kinds": "分经营主体", "trend": "月度趋势", "ranking": "考核排名",
    "targeting": "无收入帮扶对象", "needs": "需求对接率",
}

Rows = list[list]


def _t(text: str) -> str:
    return translate_message(text)


def _headers(texts: Sequence[str]) -> list[str]:
    return [_t(h) for h in texts]


# ---- titles and names -------------------------------------------------------------------------

def region_name(region: Region | None) -> str:
    """湖南省邵阳市洞口县 (the address form of the region's names); 全国 for everywhere."""
    return region.address_name if region is not None else _t("全国")


def sheet_name(name: str) -> str:
    return _t(TABLE_NAMES[name])[:31]


def title(name: str, region: Region | None, period: Period) -> str:
    """The title row: region, period and table, e.g. 湖南省邵阳市洞口县 2026年11月 分地区."""
    return " ".join([region_name(region), translate_message(period.label),
                     _t(TABLE_NAMES[name])])


def filename(name: str, region: Region | None, period: Period, ext: str) -> str:
    """洞口县-2026-11-分地区.xlsx (a custom period: 2026-11-03至2026-11-20)."""
    place = region.name if region is not None else _t("全国")
    what = _t("报表") if name == "all" else _t(TABLE_NAMES[name])
    when = period.name.replace("~", _t("至"))
    return "-".join([place, when, what]) + "." + ext


def ascii_filename(name: str, region: Region | None, period: Period, ext: str) -> str:
    """report-430525-2026-11-regions.xlsx: the name for clients that cannot read filename*."""
    code = region.code if region is not None else "all"
    return f"report-{code}-{period.name.replace('~', '_')}-{name}.{ext}"


def content_disposition(name: str, fallback: str | None = None) -> str:
    """An attachment named `name`: an ASCII fallback (`fallback`, else `name` with every other
    character as _) and the UTF-8 name (RFC 6266 filename*)."""
    fallback = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_"
                       for c in (fallback or name))
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


# ---- the tables -------------------------------------------------------------------------------

def _change(now: int, before: int) -> Percent:
    return Percent(periods.change_bp(now, before))


def summary(report: Report) -> tuple[list[str], Rows]:
    """One row per figure: this period, the period before, the change, a year before, the
    change on a year before (a change against nothing is left empty)."""
    headers = [_t("指标"), translate_message(Msg("本期（%(p)s）", p=report.period.label)),
               translate_message(Msg("上期（%(p)s）", p=report.previous.label)), _t("环比"),
               translate_message(Msg("去年同期（%(p)s）", p=report.year_before.label)),
               _t("同比")]
    items: list[tuple[str, Callable[[Figures], int], type]] = [
        ("销售额（元）", lambda f: f.sales_fen, Money),
        ("线上销售额（元）", lambda f: f.online_fen, Money),
        ("线下销售额（元）", lambda f: f.offline_fen, Money),
        ("归属收入（元）", lambda f: f.attributed_fen, Money),
        ("带动增收户数", lambda f: f.reached, int),
        ("登记帮扶对象户数", lambda f: f.registered, int),
        ("覆盖率", lambda f: f.coverage_bp, Percent),
        ("带动监测户数", lambda f: f.monitored_reached, int),
        ("监测户数", lambda f: f.monitored, int),
        ("监测户覆盖率", lambda f: f.monitored_coverage_bp, Percent),
        ("户均增收（元）", lambda f: f.average_fen, Money),
    ]
    rows = []
    for label, value, kind in items:
        now, before, ago = value(report.now), value(report.before), value(report.year_ago)
        rows.append([_t(label), kind(now), kind(before), _change(now, before), kind(ago),
                     _change(now, ago)])
    return headers, rows


def regions(report: Report) -> tuple[list[str], Rows]:
    """The sub-regions one level down with the total; under a village, its households."""
    if report.households_level:
        headers = _headers(["户编号", "户主", "类别", "归属收入（元）", "本期有收入"])
        rows = [[c.key, c.name, _status(c.household_status), Money(c.figures.attributed_fen),
                 _t("是") if c.figures.reached else _t("否")] for c in report.children]
        rows.append(["", _t("合计"), "", Money(report.now.attributed_fen),
                     report.now.reached])
        return headers, rows
    headers = _headers(["地区代码", "地区", "销售额（元）", "线上（元）", "线下（元）",
                        "归属收入（元）", "带动增收户数", "登记户数", "覆盖率", "监测户覆盖率",
                        "户均增收（元）"])
    rows = [_region_row("" if c.own else c.key, c.name if not c.own else _t(c.name), c.figures)
            for c in report.children]
    rows.append(_region_row(report.region.code if report.region else "", _t("合计"),
                            report.now))
    return headers, rows


def _status(value: str) -> str:
    try:
        return _t(HOUSEHOLD_STATUS_LABELS[HouseholdStatus(value)])
    except ValueError:
        return value


def _region_row(code: str, name: str, f: Figures) -> list:
    return [code, name, Money(f.sales_fen), Money(f.online_fen), Money(f.offline_fen),
            Money(f.attributed_fen), f.reached, f.registered, Percent(f.coverage_bp),
            Percent(f.monitored_coverage_bp), Money(f.average_fen)]


def _splits(first: str, items: list[Split]) -> tuple[list[str], Rows]:
    sales = sum(s.sales_fen for s in items)
    income = sum(s.attributed_fen for s in items)
    headers = _headers([first, "销售额（元）", "销售占比", "归属收入（元）", "收入占比"])
    rows = [[_t(s.label or s.key), Money(s.sales_fen),
             Percent(periods.share_bp(s.sales_fen, sales)), Money(s.attributed_fen),
             Percent(periods.share_bp(s.attributed_fen, income))] for s in items]
    rows.append([_t("合计"), Money(sales), Percent(10000 if sales > 0 else None), Money(income),
                 Percent(10000 if income > 0 else None)])
    return headers, rows


def channels(report: Report) -> tuple[list[str], Rows]:
    return _splits("渠道", report.by_channel)


def categories(report: Report) -> tuple[list[str], Rows]:
    return _splits("品类", report.by_category)


def seller_kinds(report: Report) -> tuple[list[str], Rows]:
    return _splits("经营主体类型", report.by_seller_kind)


def trend(report: Report) -> tuple[list[str], Rows]:
    headers = _headers(["月份", "销售额（元）", "归属收入（元）"])
    return headers, [[p.label, Money(p.sales_fen), Money(p.attributed_fen)] for p in report.trend]


_FROM_REPORT = {"summary": summary, "regions": regions, "channels": channels,
                "categories": categories, "seller_kinds": seller_kinds, "trend": trend}


def table(name: str, report: Report | None = None, *, ranking=None,
          targeting=None, match=None) -> tuple[list[str], Rows]:
    """The (headers, rows) of table `name` (one of TABLES): those of REPORT_TABLES from
    `report`, ranking from an assessment's `ranking`, targeting from `targeting`, needs from
    a `match` report (help.needs.matching.MatchReport)."""
    if name in _FROM_REPORT:
        return _FROM_REPORT[name](report)
    if name == "ranking":
        return ranking_table(ranking)
    if name == "targeting":
        return targeting_table(targeting)
    if name == "needs":
        return match_table(match)
    raise KeyError(name)


# ---- writing ----------------------------------------------------------------------------------

def xlsx(title_text: str, headers: Sequence[str], rows: Iterable[Sequence], *,
         sheet: str = "Sheet1") -> bytes:
    return sheets_bytes([Sheet(sheet, title_text, headers, rows)])


def _csv_cell(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, Money):
        return fen_to_yuan_text(cell.fen)
    if isinstance(cell, Percent):
        if cell.bp is None:
            return ""
        sign = "-" if cell.bp < 0 else ""
        return f"{sign}{abs(cell.bp) // 100}.{abs(cell.bp) % 100:02d}%"
    if isinstance(cell, date):
        return cell.isoformat()
    return str(cell)


def csv_text(headers: Sequence[str], rows: Iterable[Sequence]) -> str:
    """UTF-8 CSV with a BOM (Excel then reads the Chinese): the same headers, yuan as text
    with two decimals (1234.50), percentages as 12.50%."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(list(headers))
    for row in rows:
        writer.writerow([_csv_cell(c) for c in row])
    return out.getvalue()


def sheet(name: str, region: Region | None, period: Period, *, report: Report | None = None,
          ranking=None, targeting=None, match=None, heading: str | None = None) -> Sheet:
    """Table `name` as a sheet titled with the region and period (or `heading`)."""
    headers, rows = table(name, report, ranking=ranking, targeting=targeting, match=match)
    return Sheet(sheet_name(name), heading or title(name, region, period), headers, rows)


def workbook_of(sheets: Iterable[Sheet]) -> bytes:
    """An xlsx file of these sheets in order."""
    return sheets_bytes(sheets)


def sheets(report: Report, *, ranking=None, targeting=None,
           progress: Callable[[str], None] | None = None) -> Iterable[Sheet]:
    """The report's sheets in TABLES order (ranking and targeting when given), built one at a
    time; `progress(name)` is called as each is built."""
    for name in TABLES:
        if (name == "ranking" and ranking is None) or (name == "targeting" and targeting is None) \
                or name == "needs":
            continue
        built = sheet(name, report.region, report.period, report=report, ranking=ranking,
                      targeting=targeting)
        if progress is not None:
            progress(name)
        yield built


def workbook(report: Report, *, ranking=None, targeting=None,
             progress: Callable[[str], None] | None = None) -> bytes:
    """Every table of the report in one xlsx file, one sheet each."""
    return sheets_bytes(sheets(report, ranking=ranking, targeting=targeting, progress=progress))


# ---- ranking and targeting (reports.assessment, reports.targeting) ---------------------------

def ranking_table(ranking) -> tuple[list[str], Rows]:
    """An assessment's rows (`assessment.Ranking`, or its rows, or `assessment.rows_of` a
    published one), best first: the notice (通报). The score (hundredths of a point) is written
    with two decimals like yuan."""
    headers = _headers(["排名", "上期排名", "名次变化", "地区代码", "地区", "得分",
                        "户均归属收入（元）", "覆盖率", "环比增长", "单位预留份额完成率",
                        "需求对接率", "归属收入（元）", "带动增收户数", "登记户数"])
    rows = []
    for r in getattr(ranking, "rows", ranking) or []:
        change = None if r.previous_rank is None else r.previous_rank - r.rank
        ind = r.indicators
        rows.append([r.rank, r.previous_rank, change, r.code, r.name, Money(r.score),
                     Money(ind.get("income") or 0), Percent(ind.get("coverage")),
                     Percent(ind.get("growth")), Percent(ind.get("units")),
                     Percent(ind.get("match")), Money(r.attributed_fen), r.reached, r.registered])
    return headers, rows


def targeting_table(targeting) -> tuple[list[str], Rows]:
    """The households without attributed income (`targeting.Targeting`, or its items),
    monitored households first."""
    headers = _headers(["户编号", "户主", "类别", "乡镇", "村", "帮扶联络人"])
    return headers, [[r.code, r.display_name, _status(r.status), r.township, r.village,
                      r.liaison] for r in getattr(targeting, "items", targeting) or []]


def match_table(match) -> tuple[list[str], Rows]:
    """The match rate of needs (`help.needs.matching.MatchReport`): the sub-regions, then the
    categories, then the total; the medians in hours with one decimal (empty without any)."""
    headers = _headers(["分组", "代码", "名称", "审核通过", "已对接", "对接率",
                        "审核用时中位数（小时）", "对接用时中位数（小时）"])

    def hours(value: float | None) -> str | None:
        return None if value is None else f"{value:.1f}"

    def row(group: str, key: str, name: str, f) -> list:
        return [group, key, name, f.approved, f.matched, Percent(f.match_rate_bp),
                hours(f.median_hours_to_review), hours(f.median_hours_to_match)]
    rows = [row(_t("地区"), r.key, r.name, r.figures) for r in match.by_region]
    rows += [row(_t("需求类别"), r.key, _t(r.name), r.figures) for r in match.by_category]
    rows.append(row(_t("合计"), match.region.code if match.region else "", region_name(
        match.region), match.total))
    return headers, rows
