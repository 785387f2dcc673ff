"""`flask reports export` through Flask's CLI runner, on both engines: one sheet per table with
the report's figures (opened with openpyxl), progress on standard error and the results on
standard output; a bad region or period exits non-zero with a Chinese message and writes
nothing."""
from __future__ import annotations

import pytest
from openpyxl import load_workbook

from tests.api.test_reports_api import build_report_data

SHEETS = ["汇总", "分地区", "分渠道", "分品类", "分经营主体", "月度趋势", "考核排名", "无收入帮扶对象"]


@pytest.fixture
def folder(tmp_path):
    """An empty folder for the exports (tmp_path also holds the test's SQLite database)."""
    path = tmp_path / "exports"
    path.mkdir()
    return path


@pytest.fixture
def data(make):
    make.regions()
    return make(build_report_data)


def _rows(sheet) -> dict:
    return {r[0]: r[1:] for r in sheet.iter_rows(min_row=3, values_only=True)}


def test_export_writes_every_table_with_the_reports_figures(app, data, folder):
    out = folder / "洞口县-2026-11.xlsx"
    result = app.test_cli_runner().invoke(args=[
        "reports", "export", "--region", "430525", "--period", "2026-11", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "已导出" in result.stdout and "归属收入 ¥27.50" in result.stdout
    assert "销售额 ¥55.00（线下 ¥15.00）" in result.stdout
    assert "无收入帮扶对象 2 户（其中监测户 1 户）" in result.stdout
    assert "导出报表" in result.stderr and "导出报表" not in result.stdout
    assert not list(folder.glob("*.part"))

    book = load_workbook(out)
    assert book.sheetnames == SHEETS
    summary = book["汇总"]
    assert summary["A1"].value == "湖南省邵阳市洞口县 2026年11月 汇总"
    assert summary.freeze_panes == "A3"
    assert summary["A2"].value == "指标" and summary["B2"].value == "本期（2026年11月）"
    rows = _rows(summary)
    assert rows["销售额（元）"][:2] == (pytest.approx(55.0), pytest.approx(20.0))
    assert rows["线上销售额（元）"][0] == pytest.approx(40.0)
    assert rows["线下销售额（元）"][0] == pytest.approx(15.0)
    assert rows["归属收入（元）"][0] == pytest.approx(27.5)
    assert rows["归属收入（元）"][2] == pytest.approx(1.75)  # +175% on October
    assert rows["带动增收户数"][0] == 2 and rows["登记帮扶对象户数"][0] == 4
    assert rows["覆盖率"][0] == pytest.approx(0.5)
    assert summary["B3"].number_format == "#,##0.00"
    assert summary.column_dimensions["A"].width >= 10

    regions = _rows(book["分地区"])
    assert regions["430525101"][0] == "月溪镇" and regions["430525101"][4] == pytest.approx(27.5)
    assert regions["430525"][0] == "合计" and regions["430525"][1] == pytest.approx(55.0)
    channels = _rows(book["分渠道"])
    assert channels["线下销售"][0] == pytest.approx(15.0)
    assert channels["合计"][0] == pytest.approx(55.0)
    trend = _rows(book["月度趋势"])
    assert trend["2026-10"] == (pytest.approx(20.0), pytest.approx(10.0))
    ranking = list(book["考核排名"].iter_rows(min_row=3, values_only=True))
    assert [(r[0], r[3]) for r in ranking] == [(1, "430525101")]
    targets = list(book["无收入帮扶对象"].iter_rows(min_row=3, values_only=True))
    assert [(r[1], r[2]) for r in targets] == [("陈*山", "监测户"), ("赵*海", "建档立卡户")]
    assert book["无收入帮扶对象"]["A1"].value == "湖南省邵阳市洞口县 2026年11月 无收入帮扶对象"


def test_dates_and_everywhere(app, data, folder):
    out = folder / "all.xlsx"
    result = app.test_cli_runner().invoke(args=[
        "reports", "export", "--from", "2026-10-01", "--to", "2026-11-30", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "全国 2026-10-01 至 2026-11-30" in result.stdout
    rows = _rows(load_workbook(out)["汇总"])
    assert rows["归属收入（元）"][0] == pytest.approx(37.5)
    assert rows["登记帮扶对象户数"][0] == 5


@pytest.mark.parametrize("args, message", [
    (["--region", "999999", "--period", "2026-11"], "未找到行政区划 999999"),
    (["--region", "430525", "--period", "2026-13"], "统计期有误"),
    (["--region", "430525", "--from", "2026-11-31"], "统计期有误"),
    (["--region", "430525", "--from", "2026-11-10", "--to", "2026-11-01"], "结束日期不能早于开始日期"),
    (["--region", "430525", "--from", "1990-01-01", "--to", "1990-01-31"], "2000 年到 2100 年"),
    (["--from", "9999-12-01", "--to", "9999-12-31"], "2000 年到 2100 年"),
])
def test_bad_region_or_period_writes_nothing(app, data, folder, args, message):
    out = folder / "bad.xlsx"
    result = app.test_cli_runner().invoke(args=["reports", "export", *args, "--out", str(out)])
    assert result.exit_code != 0
    assert message in result.stderr and result.stdout == ""
    assert not out.exists() and not list(folder.iterdir())


def test_the_output_must_be_an_xlsx_file_in_an_existing_folder(app, data, folder):
    runner = app.test_cli_runner()
    wrong = runner.invoke(args=["reports", "export", "--out", str(folder / "r.csv")])
    assert wrong.exit_code != 0 and ".xlsx" in wrong.stderr
    missing = runner.invoke(args=["reports", "export", "--out",
                                  str(folder / "no" / "r.xlsx")])
    assert missing.exit_code != 0 and "输出目录不存在" in missing.stderr
    assert not list(folder.iterdir())
