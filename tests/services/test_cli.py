"""`flask regions import` and `flask users ...` through Flask's CLI runner, on both engines."""
from __future__ import annotations

from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.accounts.services import authenticate, find_by_login
from marketplace.extensions import db
from marketplace.regions.models import Region, RegionLevel

GOOD = """code,name,parent_code
43,湖南省,
4305,邵阳市,43
430525,洞口县,4305
430525101,月溪镇,430525
430525101201,洪溪村,430525101
430525101202,茶园村,430525101
"""


def write(tmp_path, text: str, name: str = "regions.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def output(result) -> str:
    return result.output + (getattr(result, "stderr", "") or "")


def region_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Region))


def test_import_good_file_builds_the_tree(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["regions", "import", write(tmp_path, GOOD)])
    assert result.exit_code == 0, output(result)
    assert "新建 6" in result.output
    with app.app_context():
        village = db.session.scalar(select(Region).where(Region.code == "430525101201"))
        assert village.level == RegionLevel.village
        assert village.path == "/43/4305/430525/430525101/430525101201/"
        assert village.path_names == ["湖南省", "邵阳市", "洞口县", "月溪镇", "洪溪村"]
        assert village.parent.code == "430525101"
        county = db.session.scalar(select(Region).where(Region.code == "430525"))
        assert county.level == RegionLevel.county and county.depth == 2


def test_reimport_unchanged_is_a_no_op_and_a_new_name_renames_the_subtree(app, tmp_path):
    runner = app.test_cli_runner()
    path = write(tmp_path, GOOD)
    assert runner.invoke(args=["regions", "import", path]).exit_code == 0
    again = runner.invoke(args=["regions", "import", path])
    assert again.exit_code == 0, output(again)
    assert "新建 0" in again.output and "改名 0" in again.output and "未变 6" in again.output
    assert region_count(app) == 6

    renamed = write(tmp_path, GOOD.replace("月溪镇", "月溪乡"), "renamed.csv")
    result = runner.invoke(args=["regions", "import", renamed])
    assert result.exit_code == 0, output(result)
    assert "改名 1" in result.output
    with app.app_context():
        village = db.session.scalar(select(Region).where(Region.code == "430525101202"))
        assert village.name_path == "湖南省/邵阳市/洞口县/月溪乡/茶园村"
    assert region_count(app) == 6


def test_bad_lines_are_all_reported_and_nothing_is_written(app, tmp_path):
    bad = """code,name,parent_code
43,湖南省,
4305,邵阳市,43
43O525,洞口县,4305
431224,溆浦县,4305
430599101,未知县的镇,430599
4305,邵阳市重复,43
510923101,玉峰镇,510923
"""
    runner = app.test_cli_runner()
    result = runner.invoke(args=["regions", "import", write(tmp_path, bad)])
    text = output(result)
    assert result.exit_code != 0
    assert "未导入任何数据" in text
    assert "第 4 行" in text  # bad code shape (letter O)
    assert "第 5 行" in text  # parent 4305 is not a prefix of 431224
    assert "第 6 行" in text  # parent 430599 is neither in the file nor in the database
    assert "第 7 行" in text and "重复" in text  # duplicate code 4305
    assert "第 8 行" in text  # parent 510923 unknown
    blamed = {line.strip().split("：")[0] for line in text.splitlines() if line.strip()}
    assert "第 2 行" not in blamed and "第 3 行" not in blamed  # good lines are not blamed
    assert region_count(app) == 0  # the good lines were not written either


def test_bad_header_and_unknown_file(app, tmp_path):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["regions", "import",
                                 write(tmp_path, "代码,名称,上级\n43,湖南省,\n")])
    assert result.exit_code != 0
    assert "第 1 行" in output(result) and "code,name,parent_code" in output(result)
    missing = runner.invoke(args=["regions", "import", str(tmp_path / "nope.csv")])
    assert missing.exit_code != 0
    not_utf8 = tmp_path / "gbk.csv"
    not_utf8.write_bytes("code,name,parent_code\n43,湖南省,\n".encode("gbk"))
    result = runner.invoke(args=["regions", "import", str(not_utf8)])
    assert result.exit_code != 0 and "UTF-8" in output(result)
    assert region_count(app) == 0


def test_users_create_admin_and_grant(app, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["regions", "import", write(tmp_path, GOOD)]).exit_code == 0
    result = runner.invoke(args=["users", "create-admin", "boss@example.test",
                                 "--password", "admin1234"])
    assert result.exit_code == 0, output(result)
    weak = runner.invoke(args=["users", "create-admin", "weak@example.test", "--password", "abc"])
    assert weak.exit_code != 0 and "密码" in output(weak)
    prompted = runner.invoke(args=["users", "create-admin", "asked@example.test"],
                             input="prompt1234\nprompt1234\n")
    assert prompted.exit_code == 0, output(prompted)

    office = runner.invoke(args=["users", "grant", "boss@example.test", "office",
                                 "--region", "430525"])
    assert office.exit_code == 0, output(office)
    unscoped = runner.invoke(args=["users", "grant", "boss@example.test", "office"])
    assert unscoped.exit_code != 0 and "行政区域" in output(unscoped)
    nobody = runner.invoke(args=["users", "grant", "ghost@example.test", "buyer"])
    assert nobody.exit_code != 0
    with app.app_context():
        user = authenticate(db.session, "boss@example.test", "admin1234")
        assert user.has_role(Role.platform_admin) and user.has_role(Role.office)
        assert [g.region.code for g in user.grants if g.role == Role.office] == ["430525"]
        assert find_by_login(db.session, "weak@example.test") is None
        assert authenticate(db.session, "asked@example.test", "prompt1234").has_role(
            Role.platform_admin)
