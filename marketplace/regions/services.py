"""The region tree: CSV import (all or nothing), lookups, subtree filters."""
from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import false, literal, or_, select, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import NullType

from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.regions.models import (
    LEVEL_BY_LENGTH,
    LEVEL_CODE_LENGTH,
    LEVEL_ORDER,
    Region,
    choice_label,
)

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
    existing = set(_known(session, {r.parent_code for r in rows
                                    if r.parent_code and r.parent_code not in in_file}))
    for row in rows:
        if row.parent_code and row.parent_code not in in_file and row.parent_code not in existing:
            if len(row.parent_code) == PARENT_LENGTH.get(len(row.code)):
                errors.append(_line(row.line, Msg("上级代码 %(parent)s 既不在文件中也不在系统中",
                                                  parent=row.parent_code)))
    return errors


def import_rows(session: Session, rows: list[RegionRow],
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Validate everything first; write nothing unless every line is good.

    Level by level, top down: a known code keeps its row (renamed when its name changed, with
    its subtree's name paths), new codes are inserted in one statement per level, so that the
    national list (about 3,400 rows) loads in a blink and loads again as a no-op."""
    errors = validate_rows(session, rows)
    if errors:
        raise RegionImportError(errors)
    report = ImportReport()
    by_length: dict[int, list[RegionRow]] = {}
    for row in rows:
        by_length.setdefault(len(row.code), []).append(row)
    for length in sorted(by_length):
        level_rows = sorted(by_length[length], key=lambda r: r.code)
        known = _known(session, {r.code for r in level_rows}
                       | {r.parent_code for r in level_rows if r.parent_code})
        new: list[dict] = []
        for row in level_rows:
            found = known.get(row.code)
            if found is not None:
                if found.name != row.name:
                    rename(session, session.get(Region, found.id), row.name)
                    report.renamed += 1
                else:
                    report.unchanged += 1
            else:
                new.append(_new_row(row.code, row.name, known.get(row.parent_code)))
            if progress:
                progress(1)
        if new:
            session.flush()  # renames first: they may touch rows of this level
            session.execute(Region.__table__.insert(), new)
            report.created += len(new)
    session.flush()
    return report


def _known(session: Session, codes: set[str]):
    """id, code, name, path and name path of the rows with these codes, by code."""
    found = {}
    listed = sorted(codes)
    for start in range(0, len(listed), 5000):  # bound the statement's parameters
        for row in session.execute(select(Region.id, Region.code, Region.name, Region.path,
                                          Region.name_path)
                                   .where(Region.code.in_(listed[start:start + 5000]))):
            found[row.code] = row
    return found


def _new_row(code: str, name: str, parent) -> dict:
    """The columns of a new region under `parent` (a row with id, path and name_path)."""
    level = LEVEL_BY_LENGTH[len(code)]
    return {"code": code, "name": name, "level": level, "depth": LEVEL_ORDER.index(level),
            "parent_id": parent.id if parent else None,
            "path": (parent.path if parent else "/") + code + "/",
            "name_path": (parent.name_path + "/" if parent else "") + name}


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


class _under(FunctionElement):
    """`path` starts with `prefix`, as each engine reads it from an index: PostgreSQL
    `path LIKE 'prefix%'` (ix_regions_path is text_pattern_ops); SQLite the range
    `path >= 'prefix' AND path < 'prefix0'` (its LIKE ignores case and so never uses an index;
    paths are digits and '/', and every path ends in '/', so the range is exactly the subtree).
    One statement for both engines, written two ways by the compiler."""

    type = NullType()  # not Boolean: SQLite would compare the range with 1 and lose the index
    inherit_cache = True
    name = "path_under"


@compiles(_under)
def _under_like(element, compiler, **kw):
    column, pattern, _low, _high = element.clauses
    return f"{compiler.process(column, **kw)} LIKE {compiler.process(pattern, **kw)}"


@compiles(_under, "sqlite")
def _under_range(element, compiler, **kw):
    column, _pattern, low, high = element.clauses
    path = compiler.process(column, **kw)
    return f"({path} >= {compiler.process(low, **kw)} AND {path} < {compiler.process(high, **kw)})"


def path_under(column_path, prefix: str):
    """A WHERE clause: the path in `column_path` starts with `prefix` (a region's path)."""
    return _under(column_path, literal(prefix + "%"), literal(prefix), literal(prefix[:-1] + "0"))


def subtree_condition(column_path, region: Region):
    """A WHERE clause: the node at `column_path` lies in `region`'s subtree (itself included)."""
    return path_under(column_path, region.path)


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


@dataclass
class Place:
    """One option of an address choice: a region's code and how it reads among its siblings."""
    code: str
    label: str


@dataclass
class AddressSteps:
    """The three lists of an address choice (省 > 市 > 区县) and what is chosen in each ('' for
    nothing yet); `county` may be a township or village below the county (a saved address)."""
    provinces: list[Place]
    cities: list[Place]
    counties: list[Place]
    province: str = ""
    city: str = ""
    county: str = ""


def _places(session: Session, parent_id: int | None) -> list[tuple[str, Place]]:
    cond = Region.parent_id.is_(None) if parent_id is None else Region.parent_id == parent_id
    rows = session.execute(select(Region.id, Region.code, Region.name_path).where(cond)
                           .order_by(Region.code))
    return [(rid, Place(code, choice_label(name_path))) for rid, code, name_path in rows]


def address_steps(session: Session, province: str | None = "", city: str | None = "",
                  county: str | None = "") -> AddressSteps:
    """What an address form offers after the choices made so far, top down: a city is kept
    only under the chosen province, a county only under the chosen city (a new province
    empties the rest). A county (or deeper) code alone brings its province and city; a
    province with a single city (北京市 > 市辖区) chooses it."""
    province, city, county = ((v or "").strip() for v in (province, city, county))
    found = find_by_code(session, county) if county.isdigit() else None
    if found is None or found.depth < 2 or (province and found.path_codes[0] != province) \
            or (city and found.path_codes[1] != city):
        county = ""
    else:
        province, city = found.path_codes[0], found.path_codes[1]
    provinces = _places(session, None)
    steps = AddressSteps(provinces=[p for _, p in provinces], cities=[], counties=[])
    ids = {p.code: rid for rid, p in provinces}
    if province not in ids:
        return steps
    steps.province = province
    cities = _places(session, ids[province])
    steps.cities = [p for _, p in cities]
    by_code = {p.code: rid for rid, p in cities}
    if city not in by_code:
        if len(cities) != 1:
            return steps
        city = cities[0][1].code
    steps.city = city
    steps.counties = [p for _, p in _places(session, by_code[city])]
    if county and county not in {p.code for p in steps.counties}:  # deeper than a county
        steps.counties.append(Place(county, "".join(found.path_names[2:])))
    steps.county = county
    return steps


def children_by_code(session: Session, code: str | None) -> list[Region]:
    """The children of the region with this code (the provinces for none); NotFound else."""
    if not code:
        return children(session, None)
    if not code.isdigit() or len(code) > LEVEL_CODE_LENGTH[LEVEL_ORDER[-1]]:
        raise NotFound(Msg("未找到行政区划 %(code)s", code=code))
    return children(session, get_by_code(session, code))


def import_csv_text(session: Session, text: str,
                    progress: Callable[[int], None] | None = None) -> ImportReport:
    return import_rows(session, read_region_csv(text), progress)


__all__ = ["import_csv_text", "import_rows", "read_region_csv", "validate_rows", "RegionRow",
           "ImportReport", "RegionImportError", "get_by_code", "find_by_code", "children",
           "subtree_condition", "villages_under", "regions_at_level", "add_region", "rename",
           "LEVEL_CODE_LENGTH", "AddressSteps", "Place", "address_steps", "children_by_code"]


def iter_progress(items: Iterable, progress: Callable[[int], None] | None):
    for item in items:
        yield item
        if progress:
            progress(1)
