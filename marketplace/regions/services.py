"""The region tree: CSV import (all or nothing), lookups, subtree filters."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import false, or_, select, true
from sqlalchemy.orm import Session

from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.regions.models import LEVEL_BY_LENGTH, LEVEL_CODE_LENGTH, LEVEL_ORDER, Region

PARENT_LENGTH = {2: 0, 4: 2, 6: 4, 9: 6, 12: 9}


@dataclass
class RegionRow:
    line: int
    code: str
    name: str
    parent_code: str


@dataclass
class ImportReport:
    created: int = 0
    renamed: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)


class RegionImportError(ValidationFailed):
    def __init__(self, errors: list[str]):
        super().__init__(Msg("区划文件有 %(n)s 处错误，未导入任何数据", n=len(errors)),
                         details={"lines": errors})
        self.lines = errors


def read_region_csv(text: str) -> list[RegionRow]:
    """Parse code,name,parent_code rows; a header line is required. Raises on a bad header."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = [h.strip().lower() for h in next(reader)]
    except StopIteration:
        raise RegionImportError([_line(1, Msg("文件为空"))]) from None
    if header[:3] != ["code", "name", "parent_code"]:
        raise RegionImportError([_line(1, Msg("表头必须是 code,name,parent_code"))])
    rows = []
    for line_no, cells in enumerate(reader, start=2):
        if not cells or all(not c.strip() for c in cells):
            continue
        cells = [c.strip() for c in cells] + ["", "", ""]
        rows.append(RegionRow(line_no, cells[0], cells[1], cells[2]))
    return rows


def _line(line: int, problem: Msg) -> Msg:
    """A problem of one line of the file, shown as '第 3 行：…'."""
    return Msg("第 %(line)s 行：%(problem)s", line=line, problem=problem)


def validate_rows(session: Session, rows: list[RegionRow]) -> list[str]:
    """Every problem, each naming its line. Parents may come from the file or the database."""
    errors: list[str] = []
    in_file: dict[str, RegionRow] = {}
    for row in rows:
        if not row.code.isdigit() or len(row.code) not in LEVEL_BY_LENGTH:
            errors.append(_line(row.line, Msg("代码 %(code)s 必须是 2、4、6、9 或 12 位数字",
                                              code=repr(row.code))))
            continue
        if not row.name or len(row.name) > 64:
            errors.append(_line(row.line, Msg("名称不能为空，且不超过 64 个字")))
        if row.code in in_file:
            errors.append(_line(row.line, Msg("代码 %(code)s 与第 %(other)s 行重复",
                                              code=row.code, other=in_file[row.code].line)))
            continue
        in_file[row.code] = row
        want = PARENT_LENGTH[len(row.code)]
        if want == 0:
            if row.parent_code:
                errors.append(_line(row.line, Msg("省级代码 %(code)s 不应有上级", code=row.code)))
        elif len(row.parent_code) != want or not row.code.startswith(row.parent_code):
            errors.append(_line(row.line, Msg(
                "代码 %(code)s 的上级必须是它的前 %(want)s 位（而不是 %(parent)s）",
                code=row.code, want=want, parent=row.parent_code or Msg("空"))))
    existing = {code for code in session.scalars(
        select(Region.code).where(Region.code.in_(
            [r.parent_code for r in rows if r.parent_code] or ["-"])))}
    for row in rows:
        if row.parent_code and row.parent_code not in in_file and row.parent_code not in existing:
            if len(row.parent_code) == PARENT_LENGTH.get(len(row.code)):
                errors.append(_line(row.line, Msg("上级代码 %(parent)s 既不在文件中也不在系统中",
                                                  parent=row.parent_code)))
    return errors


def import_rows(session: Session, rows: list[RegionRow],
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate everything first; write nothing unless every line is good."""
    errors = validate_rows(session, rows)
    if errors:
        raise RegionImportError(errors)
    report = ImportReport()
    by_code: dict[str, Region] = {
        r.code: r for r in session.scalars(select(Region).where(
            Region.code.in_({r.code for r in rows} | {r.parent_code for r in rows if r.parent_code})))
    }
    for row in sorted(rows, key=lambda r: (len(r.code), r.code)):
        region = by_code.get(row.code)
        if region is not None:
            if region.name != row.name:
                rename(session, region, row.name)
                report.renamed += 1
            else:
                report.unchanged += 1
        else:
            parent = by_code.get(row.parent_code) if row.parent_code else None
            region = _new_region(row.code, row.name, parent)
            session.add(region)
            by_code[row.code] = region
            report.created += 1
            if len(by_code) % 500 == 0:
                session.flush()
        if progress:
            progress(1)
    session.flush()
    return report


def _new_region(code: str, name: str, parent: Region | None) -> Region:
    level = LEVEL_BY_LENGTH[len(code)]
    return Region(code=code, name=name, level=level, depth=LEVEL_ORDER.index(level),
                  parent=parent,
                  path=(parent.path if parent else "/") + code + "/",
                  name_path=(parent.name_path + "/" if parent else "") + name)


def add_region(session: Session, code: str, name: str, parent_code: str | None) -> Region:
    rows = [RegionRow(1, code, name, parent_code or "")]
    errors = validate_rows(session, rows)
    if errors:
        raise ValidationFailed(errors[0].values["problem"], field="code")
    if session.scalar(select(Region).where(Region.code == code)) is not None:
        raise ValidationFailed(Msg("代码 %(code)s 已存在", code=code), field="code")
    parent = get_by_code(session, parent_code) if parent_code else None
    region = _new_region(code, name, parent)
    session.add(region)
    session.flush()
    return region


def rename(session: Session, region: Region, name: str) -> None:
    """Rename a node and rewrite the name path of its whole subtree."""
    name = name.strip()
    if not name or len(name) > 64:
        raise ValidationFailed("名称不能为空，且不超过 64 个字", field="name")
    old_prefix = region.name_path
    new_prefix = (region.name_path.rsplit("/", 1)[0] + "/" if "/" in region.name_path else "") + name
    region.name = name
    for node in session.scalars(select(Region).where(Region.path.like(region.path + "%"))):
        node.name_path = new_prefix + node.name_path[len(old_prefix):]


def get_by_code(session: Session, code: str) -> Region:
    region = session.scalar(select(Region).where(Region.code == (code or "").strip()))
    if region is None:
        raise NotFound(Msg("未找到行政区划 %(code)s", code=code))
    return region


def find_by_code(session: Session, code: str | None) -> Region | None:
    if not code:
        return None
    return session.scalar(select(Region).where(Region.code == code.strip()))


def children(session: Session, region: Region | None) -> list[Region]:
    cond = Region.parent_id.is_(None) if region is None else Region.parent_id == region.id
    return list(session.scalars(select(Region).where(cond).order_by(Region.code)))


def subtree_condition(column_path, region: Region):
    """A WHERE clause: the node at `column_path` lies in `region`'s subtree (itself included)."""
    return column_path.like(region.path + "%")


def within(column_path, roots: Sequence[Region] | None):
    """A WHERE clause: the node at `column_path` lies in one of `roots`' subtrees; None (no
    limit, as for a platform admin) is everywhere, an empty list nowhere."""
    if roots is None:
        return true()
    return or_(*[subtree_condition(column_path, r) for r in roots]) if roots else false()


def villages_under(session: Session, region: Region | None, limit: int = 2000) -> list[Region]:
    stmt = select(Region).where(Region.depth == LEVEL_ORDER.index(LEVEL_ORDER[-1]))
    if region is not None:
        stmt = stmt.where(subtree_condition(Region.path, region))
    return list(session.scalars(stmt.order_by(Region.code).limit(limit)))


def regions_at_level(session: Session, level, under: Region | None = None) -> list[Region]:
    stmt = select(Region).where(Region.level == level)
    if under is not None:
        stmt = stmt.where(subtree_condition(Region.path, under))
    return list(session.scalars(stmt.order_by(Region.code)))


def import_csv_text(session: Session, text: str,
                    progress: Callable[[int], None] | None = None) -> ImportReport:
    return import_rows(session, read_region_csv(text), progress)


__all__ = ["import_csv_text", "import_rows", "read_region_csv", "validate_rows", "RegionRow",
           "ImportReport", "RegionImportError", "get_by_code", "find_by_code", "children",
           "subtree_condition", "villages_under", "regions_at_level", "add_region", "rename",
           "LEVEL_CODE_LENGTH"]


def iter_progress(items: Iterable, progress: Callable[[int], None] | None):
    for item in items:
        yield item
        if progress:
            progress(1)
