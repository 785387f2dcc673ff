import pytest
from sqlalchemy import func, select

from marketplace.core.errors import ValidationFailed
from marketplace.regions import services as regions
from marketplace.regions.models import Region, RegionLevel

GOOD = """code,name,parent_code
43,湖南省,
4305,邵阳市,43
430525,洞口县,4305
430525101,月溪镇,430525
430525101201,洪溪村,430525101
"""


def count(session):
    return session.scalar(select(func.count()).select_from(Region))


def test_import_builds_paths_levels_and_names(session):
    seen = []
    report = regions.import_csv_text(session, GOOD, progress=seen.append)
    assert report.created == 5 and len(seen) == 5
    village = regions.get_by_code(session, "430525101201")
    assert village.level == RegionLevel.village
    assert village.path == "/43/4305/430525/430525101/430525101201/"
    assert village.path_names == ["湖南省", "邵阳市", "洞口县", "月溪镇", "洪溪村"]
    assert village.short_place == "洞口县月溪镇洪溪村"
    county = regions.get_by_code(session, "430525")
    inside = session.scalars(select(Region.code).where(
        regions.subtree_condition(Region.path, county))).all()
    assert sorted(inside) == ["430525", "430525101", "430525101201"]


def test_import_in_any_order_and_again_is_a_no_op(session):
    lines = GOOD.strip().splitlines()
    shuffled = "\n".join([lines[0]] + list(reversed(lines[1:])))
    regions.import_csv_text(session, shuffled)
    again = regions.import_csv_text(session, GOOD)
    assert again.created == 0 and again.unchanged == 5
    assert count(session) == 5


def test_bad_lines_are_all_reported_and_nothing_is_written(session):
    bad = GOOD + "\n".join([
        "4305251012,太长了,430525101",  # 10 digits: no such level
        "430526101,别县的镇,430525",  # parent is not its prefix
        "431224210,舒溶溪乡,431224",  # parent neither in file nor in database
        "430525101,月溪镇重复,430525",  # duplicate code
        "43052510120X,字母,430525101",  # not digits
        "430525102,,430525",  # empty name
    ]) + "\n"
    with pytest.raises(regions.RegionImportError) as info:
        regions.import_csv_text(session, bad)
    text = "\n".join(info.value.lines)
    for line_no in (7, 8, 9, 10, 11, 12):
        assert f"第 {line_no} 行" in text
    assert count(session) == 0


def test_bad_header(session):
    with pytest.raises(regions.RegionImportError) as info:
        regions.import_csv_text(session, "id,title\n43,湖南省\n")
    assert "第 1 行" in info.value.lines[0]


def test_rename_rewrites_the_subtree(session):
    regions.import_csv_text(session, GOOD)
    regions.rename(session, regions.get_by_code(session, "430525101"), "月溪乡")
    session.flush()
    assert regions.get_by_code(session, "430525101201").name_path.endswith("月溪乡/洪溪村")


def test_add_region_checks_parent(session):
    regions.import_csv_text(session, GOOD)
    regions.add_region(session, "430525101202", "古楼村", "430525101")
    with pytest.raises(ValidationFailed):
        regions.add_region(session, "430525101202", "重复", "430525101")
    with pytest.raises(ValidationFailed):
        regions.add_region(session, "431224210201", "曹家溪村", "431224210")


def test_a_rename_and_new_children_in_one_file(session):
    """Level by level: a renamed parent's new name is in the name paths of children the same
    file adds under it, and of those already there."""
    regions.import_csv_text(session, GOOD)
    report = regions.import_csv_text(session, GOOD.replace("月溪镇", "月溪乡")
                                     + "430525101202,茶园村,430525101\n")
    assert (report.created, report.renamed, report.unchanged) == (1, 1, 4)
    for code in ("430525101201", "430525101202"):
        region = regions.get_by_code(session, code)
        assert region.name_path.startswith("湖南省/邵阳市/洞口县/月溪乡/"), region.name_path
        assert region.parent.code == "430525101" and region.depth == 4
