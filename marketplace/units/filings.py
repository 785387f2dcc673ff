"""Budget units' annual filings: the canteen food spend and the reserved share (at least the
regional minimum), or no canteen, or a canteen shared with another unit that files; the
supervising office's review (approve, or send back with a reason); the regional minimums a
platform admin sets; the reminders before each year's deadline.

Services take the session, the actor and `now` (an aware datetime: tests pass it), and never
commit. Every decision of an office or an admin is kept (FilingEvent) and audited.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.audit.models import AuditAction, AuditObject
from marketplace.audit.services import record
from marketplace.core import policy
from marketplace.core.errors import (
    Conflict,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.roles import Role
from marketplace.core.templating import percent_text
from marketplace.core.time import CHINA
from marketplace.notifications.services import notify
from marketplace.regions.models import Region
from marketplace.regions.services import within
from marketplace.units import rules
from marketplace.units.counting import counted_in_year
from marketplace.units.models import (
    FilingEvent,
    FilingReminder,
    FilingStatus,
    ReserveMinimum,
    Unit,
    UnitFiling,
    UnitKind,
    UnitMember,
    UnitStatus,
)

FIRST_YEAR = 2021  # the national rule dates from 2021
MAX_SPEND_FEN = 10**12  # ¥10,000,000,000.00: past that, a typing slip
REMINDER_DAYS = (30, 7)
REASON_MIN, REASON_MAX = 2, 200
_MD = re.compile(r"^(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$")


# ---- dates ------------------------------------------------------------------------------------

def deadline(year: int, month_day: str = "03-31") -> date:
    """The day `year`'s filing is due; `month_day` is the FILING_DEADLINE setting ("MM-DD"; a
    day past the month's end, such as 02-29 in a common year, is its last day)."""
    match = _MD.match((month_day or "").strip())
    if not match:
        raise ValueError(f"FILING_DEADLINE must be MM-DD, not {month_day!r}")
    month, day = int(match.group(1)), int(match.group(2))
    while True:
        try:
            return rules.filing_deadline(year, month, day)
        except ValueError:
            day -= 1


def opens_on(year: int) -> date:
    """Filings for `year` may be made from 1 October of the year before."""
    return date(year - 1, 10, 1)


def parse_percent(text: str | None, field: str = "share") -> int:
    """'15' or '12.5' or '12.34%' -> basis points (1500, 1250, 1234); ValidationFailed otherwise."""
    cleaned = (text or "").strip().removesuffix("%").strip()
    match = re.match(r"^([0-9]{1,3})(?:\.([0-9]{1,2}))?$", cleaned)
    bp = int(match.group(1)) * 100 + int((match.group(2) or "").ljust(2, "0")) if match else -1
    if not 0 <= bp <= 10000:
        raise ValidationFailed("比例应为 0 到 100 之间的数，最多两位小数（例如 15 或 12.5）",
                               field=field)
    return bp


def china_day(now: datetime) -> date:
    return now.astimezone(CHINA).date()


def latest_open_year(now: datetime) -> int:
    today = china_day(now)
    return today.year + 1 if today >= opens_on(today.year + 1) else today.year


# ---- regional minimums ------------------------------------------------------------------------

def minimums(session: Session) -> dict[str, int]:
    """Region path -> the minimum share (bp) set for its subtree."""
    return dict(session.execute(select(Region.path, ReserveMinimum.share_bp)
                                .join(Region, ReserveMinimum.region_id == Region.id)).all())


def minimum_for(session: Session, unit: Unit, default_bp: int) -> int:
    return rules.minimum_share_bp(unit.region.path, minimums(session), default_bp)


def minimum_rows(session: Session) -> list[ReserveMinimum]:
    return list(session.scalars(select(ReserveMinimum).join(ReserveMinimum.region)
                                .order_by(Region.path)))


def set_minimum(session: Session, actor, region_code: str, share_bp: int) -> ReserveMinimum:
    """A platform admin sets the minimum share of a region's subtree (audited)."""
    policy.check_admin(actor)
    region = session.scalar(select(Region).where(Region.code == (region_code or "").strip()))
    if region is None:
        raise ValidationFailed("未找到该行政区划代码", field="region_code")
    if not isinstance(share_bp, int) or not 1 <= share_bp <= 10000:
        raise ValidationFailed("最低预留比例应在 0.01% 到 100% 之间", field="share")
    row = session.scalar(select(ReserveMinimum).where(ReserveMinimum.region_id == region.id))
    before = {"share_bp": row.share_bp} if row else {}
    if row is None:
        row = ReserveMinimum(region_id=region.id, share_bp=share_bp)
        session.add(row)
    row.share_bp, row.set_by = share_bp, actor.id
    session.flush()
    record(session, actor, AuditAction.reserve_minimum_set, AuditObject.region, region.id,
           before=before, after={"region": region.code, "share_bp": share_bp})
    return row


def remove_minimum(session: Session, actor, minimum_id: int) -> None:
    policy.check_admin(actor)
    row = session.get(ReserveMinimum, minimum_id)
    if row is None:
        raise NotFound("未找到该地区的最低预留比例")
    record(session, actor, AuditAction.reserve_minimum_removed, AuditObject.region,
           row.region_id, before={"region": row.region.code, "share_bp": row.share_bp})
    session.delete(row)
    session.flush()


# ---- filing -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class FilingInput:
    """What a unit files for a year: a canteen (spend and share), no canteen, or a canteen
    shared with another unit (its id)."""

    year: int
    canteen_spend_fen: int = 0
    reserved_share_bp: int = 0
    no_canteen: bool = False
    shared_with_unit_id: int | None = None


def admin_ids(session: Session, unit_id: int) -> list[int]:
    return list(session.scalars(select(UnitMember.user_id).where(
        UnitMember.unit_id == unit_id, UnitMember.is_admin.is_(True)).order_by(UnitMember.id)))


def _check_year(year, now: datetime) -> None:
    if not isinstance(year, int) or isinstance(year, bool) or not FIRST_YEAR <= year <= 2100:
        raise ValidationFailed(Msg("年度应为 %(first)s 年以后的年份", first=FIRST_YEAR),
                               field="year")
    if year > latest_open_year(now):
        raise RuleBroken(Msg("%(year)s 年度的填报自 %(prev)s 年 10 月 1 日起开放", year=year,
                             prev=year - 1), field="year", code="filing_not_open")


def _shared_unit(session: Session, unit: Unit, other_id) -> Unit:
    other = session.get(Unit, other_id) if isinstance(other_id, int) else None
    if (other is None or other.id == unit.id or other.kind != UnitKind.budget
            or other.status != UnitStatus.verified):
        raise RuleBroken("共用食堂的单位必须是另一个已认证的预算单位",
                         field="shared_with_unit_id", code="shared_unit_invalid")
    return other


def _values(session: Session, unit: Unit, data: FilingInput, default_bp: int) -> dict:
    """The columns of the filing, checked; ValidationFailed or RuleBroken otherwise."""
    if data.no_canteen and data.shared_with_unit_id is not None:
        raise ValidationFailed("无食堂与共用食堂只能选择一项", field="no_canteen")
    if data.no_canteen or data.shared_with_unit_id is not None:
        shared = (_shared_unit(session, unit, data.shared_with_unit_id).id
                  if data.shared_with_unit_id is not None else None)
        return {"no_canteen": data.no_canteen, "shared_with_unit_id": shared,
                "canteen_spend_fen": 0, "reserved_share_bp": 0, "reserved_fen": 0}
    spend, share = data.canteen_spend_fen, data.reserved_share_bp
    errors = {}
    if not isinstance(spend, int) or isinstance(spend, bool) or not 0 < spend <= MAX_SPEND_FEN:
        errors["canteen_spend"] = ["食堂食材支出应为大于 0 的金额（无食堂请选择“无食堂”）"]
    if not isinstance(share, int) or isinstance(share, bool) or not 0 <= share <= 10000:
        errors["reserved_share_bp"] = ["预留比例应在 0% 到 100% 之间"]
    if errors:
        first = next(iter(errors.values()))[0]
        raise ValidationFailed(first, errors=errors)
    minimum = minimum_for(session, unit, default_bp)
    if share < minimum:
        raise RuleBroken(Msg("预留比例不能低于本地区的最低比例 %(pct)s", pct=percent_text(minimum)),
                         field="reserved_share_bp", code="below_minimum",
                         details={"minimum_bp": minimum})
    return {"no_canteen": False, "shared_with_unit_id": None, "canteen_spend_fen": spend,
            "reserved_share_bp": share, "reserved_fen": rules.reserved_fen(spend, share)}


def filed_note(values: dict) -> str:
    """What was filed, as a FilingEvent keeps it (`event_parts` reads it back)."""
    if values["no_canteen"]:
        return "no_canteen"
    if values["shared_with_unit_id"] is not None:
        return f"shared:{values['shared_with_unit_id']}"
    return (f"canteen:{values['canteen_spend_fen']}:{values['reserved_share_bp']}:"
            f"{values['reserved_fen']}")


def event_parts(note: str) -> dict:
    """A 'filed' event's note as values: kind (canteen, no_canteen, shared) and its numbers."""
    kind, _, rest = (note or "").partition(":")
    parts = rest.split(":") if rest else []
    try:
        if kind == "canteen" and len(parts) == 3:
            spend, share, reserved = (int(p) for p in parts)
            return {"kind": kind, "spend_fen": spend, "share_bp": share, "reserved_fen": reserved}
        if kind == "shared" and len(parts) == 1:
            return {"kind": kind, "unit_id": int(parts[0])}
    except ValueError:
        pass
    return {"kind": kind}


def submit(session: Session, actor, unit: Unit, data: FilingInput, *, now: datetime,
         default_bp: int) -> UnitFiling:
    """A unit admin files (or files again, while pending or sent back) the unit's year."""
    policy.check_file_for_unit(actor, unit)
    if unit.kind != UnitKind.budget or unit.status != UnitStatus.verified:
        raise RuleBroken("只有已认证的预算单位需要填报预留份额", code="not_a_budget_unit")
    _check_year(data.year, now)
    values = _values(session, unit, data, default_bp)
    filing = session.scalar(select(UnitFiling).where(UnitFiling.unit_id == unit.id,
                                                     UnitFiling.year == data.year)
                            .with_for_update(of=UnitFiling))
    if filing is not None and filing.status == FilingStatus.approved:
        raise RuleBroken("该年度的填报已审核通过，预留金额已固定，不能再修改",
                         code="filing_fixed")
    if filing is None:
        filing = UnitFiling(unit_id=unit.id, year=data.year)
        session.add(filing)
    for name, value in values.items():
        setattr(filing, name, value)
    filing.status, filing.reason = FilingStatus.pending, ""
    filing.filed_by, filing.filed_at = actor.id, now
    filing.decided_by = filing.decided_at = None
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict("该年度的填报刚刚已由他人提交，请刷新后重试", code="conflict") from None
    session.add(FilingEvent(filing_id=filing.id, kind="filed", actor_id=actor.id,
                            note=filed_note(values), at=now))
    session.flush()
    return filing


def review(session: Session, actor, filing: UnitFiling, decision: str, reason: str = "", *,
           now: datetime) -> UnitFiling:
    """The office over the unit (or a platform admin) approves the pending filing (its reserved
    amount is fixed from then on) or sends it back with a reason (2-200 characters)."""
    policy.check_review_filing(actor, filing)
    reason = (reason or "").strip()
    if decision not in ("approve", "send_back"):
        raise ValidationFailed("decision 应为 approve 或 send_back", field="decision")
    if decision == "send_back" and not REASON_MIN <= len(reason) <= REASON_MAX:
        raise ValidationFailed("请填写退回原因（2 到 200 个字）", field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed("说明不能超过 200 个字", field="reason")
    session.refresh(filing, with_for_update={"of": UnitFiling})
    if filing.status != FilingStatus.pending:
        raise IllegalTransition(Msg("该填报当前为“%(status)s”，只能审核待审核的填报",
                                    status=filing.status_label), code="not_pending")
    approve = decision == "approve"
    before = {"status": str(filing.status)}
    filing.status = FilingStatus.approved if approve else FilingStatus.sent_back
    filing.decided_by, filing.decided_at = actor.id, now
    filing.reason = "" if approve else reason
    session.add(FilingEvent(filing_id=filing.id, actor_id=actor.id, note=reason, at=now,
                            kind="approved" if approve else "sent_back"))
    session.flush()
    record(session, actor,
           AuditAction.filing_approved if approve else AuditAction.filing_sent_back,
           AuditObject.unit_filing, filing.id, before=before,
           after={"status": str(filing.status), "unit_id": filing.unit_id, "year": filing.year,
                  "reserved_fen": filing.reserved_fen}, note=reason)
    message = (Msg("%(unit)s %(year)s 年度预留份额填报已审核通过", unit=filing.unit.name,
                   year=filing.year) if approve else
               Msg("%(unit)s %(year)s 年度预留份额填报被退回：%(reason)s",
                   unit=filing.unit.name, year=filing.year, reason=reason))
    notify(session, admin_ids(session, filing.unit_id), message, "filings.unit_filings",
           unit_id=filing.unit_id, year=filing.year)
    return filing


# ---- reading ----------------------------------------------------------------------------------

def get_filing(session: Session, filing_id: int) -> UnitFiling:
    filing = session.get(UnitFiling, filing_id)
    if filing is None:
        raise NotFound("未找到该填报")
    return filing


def filing_for(session: Session, unit_id: int, year: int) -> UnitFiling | None:
    return session.scalar(select(UnitFiling).where(UnitFiling.unit_id == unit_id,
                                                   UnitFiling.year == year))


def prefill(session: Session, unit_id: int, year: int) -> UnitFiling | None:
    """The filing a new one starts from: this year's own, else last year's."""
    return filing_for(session, unit_id, year) or filing_for(session, unit_id, year - 1)


# ---- the office's units -------------------------------------------------------------------------

STATUS_KEYS = {"none": "未填报", "pending": "待审核", "sent_back": "已退回", "approved": "已通过",
               "no_canteen": "无食堂", "shared": "共用食堂"}


@dataclass(frozen=True)
class UnitYear:
    """One unit's year as its office sees it."""

    unit: Unit
    filing: UnitFiling | None
    status: str  # a key of STATUS_KEYS
    reserved_fen: int
    counted_fen: int
    progress_bp: int | None
    overdue: bool  # past the deadline with nothing approved or pending
    under_target: bool  # approved, and progress below the share of the year gone by

    @property
    def status_label(self) -> str:
        return STATUS_KEYS[self.status]


def _status(filing: UnitFiling | None) -> str:
    if filing is None:
        return "none"
    if filing.status == FilingStatus.approved and filing.no_canteen:
        return "no_canteen"
    if filing.status == FilingStatus.approved and filing.shared_with_unit_id is not None:
        return "shared"
    return str(filing.status)


def target_bp(year: int, today: date) -> int:
    """The progress expected by `today`: the share of `year` gone by (all of a past year,
    nothing of a future one), in basis points."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    if today >= end:
        return 10000
    if today < start:
        return 0
    return (today - start).days * 10000 // (end - start).days


def office_roots(actor) -> list[Region] | None:
    """The regions whose subtrees the actor's offices cover; None (everywhere) for a platform
    admin without an office."""
    roots = [g.region for g in actor.grants if g.role == Role.office and g.region is not None]
    return None if not roots and policy.is_admin(actor) else roots


def _in_scope(stmt, actor):
    """`stmt` (over Unit) narrowed to the units whose supervising region the actor covers."""
    office_region = Region.__table__.alias("office_region")
    return stmt.join(office_region, Unit.office_region_id == office_region.c.id).where(
        within(office_region.c.path, office_roots(actor)))


def office_units(session: Session, actor, year: int, *, now: datetime,
                 month_day: str) -> list[UnitYear]:
    """Every verified budget unit whose supervising region lies in the actor's office subtrees
    (every one for a platform admin without an office), with its filing for `year`."""
    units = list(session.scalars(_in_scope(select(Unit), actor).where(
        Unit.kind == UnitKind.budget, Unit.status == UnitStatus.verified)
        .order_by(Unit.name, Unit.id)))
    ids = [u.id for u in units]
    filings = {f.unit_id: f for f in session.scalars(select(UnitFiling).where(
        UnitFiling.unit_id.in_(ids), UnitFiling.year == year))} if ids else {}
    counted = counted_in_year(session, ids, year)
    today = china_day(now)
    late = today > deadline(year, month_day)
    expected = target_bp(year, today)
    out = []
    for unit in units:
        filing = filings.get(unit.id)
        status = _status(filing)
        reserved = filing.reserved_fen if filing is not None else 0
        progress = rules.progress_bp(counted[unit.id], reserved)
        out.append(UnitYear(
            unit, filing, status, reserved, counted[unit.id], progress,
            overdue=late and status in ("none", "sent_back"),
            under_target=(status == "approved" and progress is not None
                          and progress < expected)))
    return out


def review_queue(session: Session, actor) -> list[UnitFiling]:
    """Pending filings of the units the actor reviews, oldest first."""
    stmt = select(UnitFiling).join(Unit, UnitFiling.unit_id == Unit.id)
    return list(session.scalars(_in_scope(stmt, actor).where(
        UnitFiling.status == FilingStatus.pending).order_by(UnitFiling.filed_at, UnitFiling.id)))


# ---- reminders ----------------------------------------------------------------------------------

def due_reminders(session: Session, now: datetime, month_day: str) -> list[tuple[int, int, int]]:
    """(unit id, year, days before) of every reminder due today and not yet sent: verified
    budget units with no filing for a year whose deadline is within 30 days, or with one sent
    back. Within 7 days the 7-day reminder is due (the 30-day one is not sent late)."""
    today = china_day(now)
    out = []
    for year in (today.year, today.year + 1):
        days = (deadline(year, month_day) - today).days
        if not 0 <= days <= REMINDER_DAYS[0]:
            continue
        which = REMINDER_DAYS[1] if days <= REMINDER_DAYS[1] else REMINDER_DAYS[0]
        settled = (select(UnitFiling.unit_id).where(
            UnitFiling.year == year, UnitFiling.status != FilingStatus.sent_back))
        sent = select(FilingReminder.unit_id).where(FilingReminder.year == year,
                                                    FilingReminder.days_before == which)
        ids = session.scalars(select(Unit.id).where(
            Unit.kind == UnitKind.budget, Unit.status == UnitStatus.verified,
            Unit.id.not_in(settled), Unit.id.not_in(sent)).order_by(Unit.id))
        out += [(unit_id, year, which) for unit_id in ids]
    return out


def send_reminder(session: Session, unit_id: int, year: int, days_before: int, *,
                  now: datetime, month_day: str) -> bool:
    """Record the reminder and tell the unit's admins, once: False when it was already sent
    (by this job earlier, or by another running at the same time)."""
    try:
        with session.begin_nested():
            session.add(FilingReminder(unit_id=unit_id, year=year, days_before=days_before,
                                       sent_at=now))
            session.flush()
    except IntegrityError:
        return False
    unit = session.get(Unit, unit_id)
    notify(session, admin_ids(session, unit_id),
           Msg("请在 %(deadline)s 前填报 %(unit)s %(year)s 年度的食堂预留份额（还剩 %(days)s 天）",
               deadline=deadline(year, month_day).isoformat(), unit=unit.name, year=year,
               days=(deadline(year, month_day) - china_day(now)).days),
           "filings.unit_filings", unit_id=unit_id, year=year)
    return True


def remind(session: Session, now: datetime, month_day: str) -> int:
    """Every reminder due now, each once (the tests' and a single caller's form; the command
    commits after each)."""
    return sum(send_reminder(session, u, y, d, now=now, month_day=month_day)
               for u, y, d in due_reminders(session, now, month_day))
