"""reports.exports without a database: CSV cells (yuan as text with two decimals, percentages,
a BOM), file names and their Content-Disposition, several sheets in one workbook."""
from __future__ import annotations

import io
from datetime import date
from types import SimpleNamespace
from urllib.parse import unquote

from openpyxl import load_workbook

from marketplace.reports import exports, periods
from marketplace.units.exports import Money, Percent, Sheet, sheets_bytes

COUNTY = SimpleNamespace(code="430525", name="洞口县", address_name="湖南省邵阳市洞口县")


def test_csv_has_a_bom_yuan_as_text_and_percentages():
    text = exports.csv_text(["地区", "金额（元）", "占比", "日期", "户数"], [
        ["洪溪村", Money(123456), Percent(1250), date(2026, 11, 3), 3],
        ["退款", Money(-150), Percent(-5), None, 0],
        ["无", Money(0), Percent(None), "", None]])
    assert text.startswith("\ufeff地区,金额（元）,占比,日期,户数\r\n")
    lines = text[1:].split("\r\n")
    assert lines[1] == "洪溪村,1234.56,12.50%,2026-11-03,3"
    assert lines[2] == "退款,-1.50,-0.05%,,0"
    assert lines[3] == "无,0.00,,,"


def test_file_names_and_content_disposition():
    month, days = periods.month(2026, 11), periods.between(date(2026, 11, 3), date(2026, 11, 20))
    assert exports.filename("regions", COUNTY, month, "xlsx") == "洞口县-2026-11-分地区.xlsx"
    assert exports.filename("targeting", None, days, "csv") == \
        "全国-2026-11-03至2026-11-20-无收入帮扶对象.csv"
    assert exports.ascii_filename("targeting", None, days, "csv") == \
        "report-all-2026-11-03_2026-11-20-targeting.csv"
    header = exports.content_disposition(exports.filename("regions", COUNTY, month, "xlsx"),
                                         exports.ascii_filename("regions", COUNTY, month, "xlsx"))
    plain, encoded = header.split("; filename*=UTF-8''")
    assert plain == 'attachment; filename="report-430525-2026-11-regions.xlsx"'
    assert unquote(encoded) == "洞口县-2026-11-分地区.xlsx"
    odd = exports.content_disposition('a"b;洞.xlsx')
    assert odd.startswith('attachment; filename="a_b__.xlsx"')
    assert exports.title("ranking", COUNTY, periods.quarter(2026, 3)) == \
        "湖南省邵阳市洞口县 2026年第3季度 考核排名"


def test_several_sheets_in_one_workbook():
    data = sheets_bytes([
        Sheet("汇总", "标题一", ["指标", "本期"], [["销售额（元）", Money(5500)]]),
        Sheet("分地区", "标题二", ["地区代码", "覆盖率"], [["430525", Percent(5000)]])])
    book = load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["汇总", "分地区"]
    assert book["汇总"]["A1"].value == "标题一" and book["汇总"]["B3"].value == 55
    assert book["分地区"]["B3"].value == 0.5 and book["分地区"]["B3"].number_format == "0.00%"
    assert all(book[name].freeze_panes == "A3" for name in book.sheetnames)
