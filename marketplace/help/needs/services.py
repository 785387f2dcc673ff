"""Needs and micro-wishes: posting (for one household), editing and resubmitting, an office's
review, withdrawing, lazy expiry; and the reads of the wall, a need's page and the review queue.

Services take (session, actor, ...), check `core.policy`, never commit. Every step is in the
need's history (`history.record`), every office decision in the audit log."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session, aliased

from marketplace.accounts.models import Role, RoleGrant
from marketplace.audit import services as audit
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.catalog import images as image_store
from marketplace.core import policy
from marketplace.core.errors import (
    Forbidden,
    IllegalTransition,
    NotFound,
    RuleBroken,
    ValidationFailed,
)
from marketplace.core.i18n import Msg
from marketplace.core.time import CHINA, now_utc
from marketplace.help.needs import history, rules
from marketplace.help.needs.models import (
    ClaimStatus,
    Need,
    NeedEvent,
    NeedKind,
    NeedStatus,
)
from marketplace.households.models import Household
from marketplace.regions.models import Region
from marketplace.search.analysis import token_texts
from marketplace.search.queries import parse_query
from marketplace.sellers.models import Seller

# on the public wall (approved): open, claimed, fulfilled
PUBLIC = (NeedStatus.open, NeedStatus.claimed, NeedStatus.fulfilled)
# a household's needs that count against its cap
ACTIVE = (NeedStatus.pending, NeedStatus.open, NeedStatus.claimed)
EDITABLE = (NeedStatus.pending, NeedStatus.sent_back)
LIVE_CLAIMS = (ClaimStatus.held, ClaimStatus.delivered, ClaimStatus.confirmed)
# history steps shown to everyone on a need's page (a reason sent back stays with its poster)
PUBLIC_STEPS = ("approved", "claimed", "lapsed", "withdrawn", "delivered", "confirmed",
                "fulfilled", "expired", "allocated", "removed")

STEP_LABELS = {
    "posted": "发布", "edited": "修改", "resubmitted": "重新提交", "approved": "审核通过，上墙",
    "sent_back": "退回修改", "claimed": "有人认领", "lapsed": "认领超时，重新开放",
    "withdrawn": "撤回", "delivered": "已交付", "confirmed": "联络人确认收到",
    "fulfilled": "帮扶完成", "expired": "已过期", "flagged": "被举报",
    "flag_upheld": "举报成立", "flag_dismissed": "举报被驳回", "removed": "已下架",
    "allocated": "资金池拨付",
}


def config(name: str, default):
    try:
        return current_app.config.get(name, default)
    except RuntimeError:  # outside an app context
        return default


def _today(now: datetime):
    return now.astimezone(CHINA).date()


# ---- who may do what --------------------------------------------------------------------------

def is_own_household(session: Session, user, household: Household) -> bool:
    """The user is the household's own account: staff of its household shop."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    seller_id = session.scalar(select(Seller.id).where(Seller.household_id == household.id))
    return seller_id is not None and policy.staff_of(user, seller_id)


def may_post_for(session: Session, user, household: Household) -> bool:
    return policy.posts_need_for(user, household, is_own_household(session, user, household))


def check_manage(session: Session, user, need: Need | None) -> Need:
    """The poster's side of a need (edit, resubmit, withdraw): whoever may post for its
    household; 404 for anyone else."""
    if need is None or not may_post_for(session, user, need.household):
        raise NotFound("未找到该需求")
    return need


def household_by_code(session: Session, code: str | None) -> Household:
    household = session.scalar(select(Household).where(Household.code == (code or "").strip()))
    if household is None:
        raise NotFound("未找到该帮扶对象", field="household_code")
    return household


# ---- posting ----------------------------------------------------------------------------------

def _store_photo(session: Session, data: bytes | None, field: str = "photo") -> str:
    """A photo decoded and re-encoded (no EXIF, no location data), or "" for none."""
    if not data:
        return ""
    folder = config("UPLOAD_FOLDER", "uploads")
    try:
        stored = image_store.store(data, folder, max_bytes=config("MAX_IMAGE_BYTES", 5 << 20),
                                   max_side=config("IMAGE_MAX_SIDE", 1200),
                                   thumb_side=config("IMAGE_THUMB_SIDE", 360),
                                   label=Msg("照片"))
    except ValidationFailed as err:
        raise ValidationFailed(err.message, field=field) from None
    image_store.track_new(session, folder, stored.filename, stored.thumb_filename)
    return stored.filename


def _check_limits(session: Session, actor, household: Household, now: datetime,
                  exclude_id: int | None = None) -> None:
    per_day = int(config("HELP_POSTS_PER_DAY", rules.POSTS_PER_DAY))
    posted = session.scalar(select(func.count(Need.id)).where(
        Need.posted_by_id == actor.id, Need.posted_at > now - timedelta(days=1))) or 0
    if exclude_id is None and posted >= per_day:
        raise RuleBroken(Msg("每人每天最多发布 %(n)s 条需求，请明天再发布", n=per_day),
                         code="post_limit")
    cap = int(config("HELP_OPEN_NEEDS_PER_HOUSEHOLD", rules.OPEN_NEEDS_PER_HOUSEHOLD))
    stmt = select(func.count(Need.id)).where(Need.household_id == household.id,
                                             Need.status.in_(ACTIVE))
    if exclude_id is not None:
        stmt = stmt.where(Need.id != exclude_id)
    if (session.scalar(stmt) or 0) >= cap:
        raise RuleBroken(Msg("该帮扶对象已有 %(n)s 条待审核或进行中的需求，请等其完成后再发布",
                             n=cap), code="household_cap")


def _apply(need: Need, clean: rules.CleanNeed) -> None:
    need.kind, need.category, need.what = clean.kind, clean.category, clean.what
    need.title, need.description = clean.title, clean.description
    need.items, need.amount_fen, need.service = clean.items, clean.amount_fen, clean.service
    need.beneficiary, need.expires_on = clean.beneficiary, clean.expires_on
    need.search_tokens = rules.search_document(clean.title, clean.description, token_texts)


def _clean(data: rules.NeedInput, now: datetime) -> rules.CleanNeed:
    return rules.clean_need(data, today=_today(now),
                            wish_cap_fen=int(config("HELP_WISH_CAP_FEN", rules.WISH_CAP_FEN)))


def post(session: Session, actor, household: Household, data: rules.NeedInput, *,
         photo: bytes | None = None, now: datetime | None = None) -> Need:
    """A need (or a wish) for `household`, pending review."""
    now = now or now_utc()
    policy.require_user(actor)
    policy.check_post_need(actor, household, is_own_household(session, actor, household))
    clean = _clean(data, now)
    _check_limits(session, actor, household, now)
    need = Need(household_id=household.id, village_id=household.village_id,
                status=NeedStatus.pending, posted_by_id=actor.id, posted_at=now, claimed_fen=0)
    need.household = household
    _apply(need, clean)
    need.photo = _store_photo(session, photo)
    session.add(need)
    session.flush()
    history.record(session, need, "posted", actor.id, now=now)
    return need


def edit(session: Session, actor, need: Need, data: rules.NeedInput, *,
         photo: bytes | None = None, remove_photo: bool = False,
         now: datetime | None = None) -> Need:
    """Change a pending or sent-back need (a sent-back one stays sent back until resubmitted)."""
    now = now or now_utc()
    check_manage(session, actor, need)
    if need.status not in EDITABLE:
        raise IllegalTransition(Msg("需求%(s)s，不能再修改", s=Msg(need.status_label)))
    _apply(need, _clean(data, now))
    if photo or remove_photo:
        if need.photo:
            folder = config("UPLOAD_FOLDER", "uploads")
            image_store.delete_after_commit(session, folder, need.photo,
                                            image_store.thumb_filename(need.photo[:-4]))
        need.photo = _store_photo(session, photo) if photo else ""
    history.record(session, need, "edited", actor.id, now=now)
    return need


def resubmit(session: Session, actor, need: Need, *, now: datetime | None = None) -> Need:
    now = now or now_utc()
    check_manage(session, actor, need)
    if need.status != NeedStatus.sent_back:
        raise IllegalTransition("只有被退回的需求可以重新提交")
    if need.expires_on <= _today(now):
        raise ValidationFailed("截止日期已过，请先修改截止日期", field="expires_on")
    _check_limits(session, actor, need.household, now, exclude_id=need.id)
    need.status = NeedStatus.pending
    history.record(session, need, "resubmitted", actor.id, now=now)
    return need


def withdraw(session: Session, actor, need: Need, *, now: datetime | None = None) -> Need:
    """The poster takes a need back: pending, sent back, or open with no live claim."""
    now = now or now_utc()
    check_manage(session, actor, need)
    live = any(c.status in LIVE_CLAIMS for c in need.claims)
    if need.status not in (*EDITABLE, NeedStatus.open) or live:
        raise IllegalTransition("已被认领的需求不能撤回")
    need.status = NeedStatus.withdrawn
    history.record(session, need, "withdrawn", actor.id, now=now)
    return need


# ---- review -----------------------------------------------------------------------------------

def review(session: Session, actor, need: Need | None, decision: str, reason: str = "", *,
           now: datetime | None = None) -> Need:
    """An office over the household approves a pending need (open on the wall) or sends it back
    with a reason; 404 for other offices' needs."""
    now = now or now_utc()
    check_reviewer(session, actor, need)
    if decision not in ("approve", "send_back"):
        raise ValidationFailed("请选择审核结果：通过（approve）或退回（send_back）",
                               field="decision")
    if need.status != NeedStatus.pending:
        raise IllegalTransition(Msg("需求%(s)s，不在待审核状态", s=Msg(need.status_label)),
                                code="not_pending")
    before = {"status": str(need.status)}
    if decision == "approve":
        if need.expires_on <= _today(now):
            raise RuleBroken("截止日期已过，请退回让发布人修改", code="expired")
        need.status = NeedStatus.open
        need.approved_at = now
        need.review_reason = (reason or "").strip()[:200]
        action, step = AuditAction.need_approved, "approved"
    else:
        need.review_reason = rules.check_reason(reason)
        need.status = NeedStatus.sent_back
        action, step = AuditAction.need_sent_back, "sent_back"
    need.reviewed_by_id, need.reviewed_at = actor.id, now
    history.record(session, need, step, actor.id, need.review_reason, now=now)
    audit.record(session, actor, action, AuditObject.need, need.id, before=before,
                 after={"status": str(need.status)}, note=need.review_reason,
                 parent=(AuditObject.household, need.household_id))
    return need


# ---- who reviews: the office nearest the household --------------------------------------------
# A need is reviewed by the office nearest its household: the village's information point where
# there is one, else the township's office, else the county's (and so on up); offices above it
# see the need but leave the decision to it. Platform admins may review any need.

def _office_paths_over(session: Session, village: Region) -> list[str]:
    """The paths of the regions over (or at) the village that have an office."""
    codes = village.path_codes
    prefixes = ["/" + "/".join(codes[:i]) + "/" for i in range(1, len(codes) + 1)]
    return sorted(set(session.scalars(
        select(Region.path).join(RoleGrant, RoleGrant.region_id == Region.id)
        .where(RoleGrant.role == Role.office, Region.path.in_(prefixes)))), key=len)


def reviewer_region(session: Session, village: Region) -> Region | None:
    """The region of the office that reviews the village's needs (the nearest); None when no
    office covers the village."""
    paths = _office_paths_over(session, village)
    return session.scalar(select(Region).where(Region.path == paths[-1])) if paths else None


def may_review(session: Session, user, need: Need | None) -> bool:
    if not policy.reviews_need(user, need):
        return False
    if policy.is_admin(user):
        return True
    paths = _office_paths_over(session, need.village)
    return not paths or paths[-1] in policy.office_paths(user)


def check_reviewer(session: Session, user, need: Need | None) -> None:
    """404 outside the user's subtree; 403, naming the office that reviews, for an office above
    the nearest one."""
    policy.check_review_need(user, need)
    if not may_review(session, user, need):
        nearest = reviewer_region(session, need.village)
        raise Forbidden(Msg("该需求由离帮扶对象最近的帮扶办审核：%(office)s",
                            office="".join(nearest.path_names[2:]) or nearest.name))


def _review_scope(session: Session, actor, village):
    """Needs the actor's offices review: under their regions, not under a nearer office's."""
    scope = _office_scope(actor, village)
    if scope is None:
        return None
    mine = policy.office_paths(actor)
    nearer = [path for path in session.scalars(
        select(Region.path).join(RoleGrant, RoleGrant.region_id == Region.id)
        .where(RoleGrant.role == Role.office,
               or_(*[and_(Region.path.like(p + "%"), Region.path != p) for p in mine])))
        if path not in mine] if mine else []
    if nearer:
        scope = and_(scope, ~or_(*[village.path.like(p + "%") for p in set(nearer)]))
    return scope


def _office_scope(actor, village):
    """Needs of villages under the actor's offices (None: platform admins, everywhere)."""
    if policy.is_admin(actor):
        return None
    paths = policy.office_paths(actor)
    if not paths:
        return village.id.is_(None)
    return or_(*[village.path.like(p + "%") for p in paths])


def review_queue(session: Session, actor, *, page: int = 1, per_page: int = 30
                 ) -> tuple[list[Need], int]:
    """Pending needs the actor reviews (of its subtrees, not under a nearer office), oldest
    first."""
    policy.require_user(actor)
    village = aliased(Region)
    stmt = (select(Need).join(village, Need.village_id == village.id)
            .where(Need.status == NeedStatus.pending))
    scope = _review_scope(session, actor, village)
    if scope is not None:
        stmt = stmt.where(scope)
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Need.id).subquery())) or 0
    rows = session.scalars(stmt.order_by(Need.posted_at, Need.id)
                           .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


# ---- expiry (lazy, and by `flask needs lapse`) --------------------------------------------------

def expire_due(session: Session, *, now: datetime | None = None) -> int:
    """Open needs past their expiry with no live claim become expired (idempotent)."""
    now = now or now_utc()
    from marketplace.help.needs.models import Claim
    live = select(Claim.id).where(Claim.need_id == Need.id, Claim.status.in_(LIVE_CLAIMS))
    ids = list(session.scalars(select(Need.id).where(
        Need.status == NeedStatus.open, Need.expires_on < _today(now), ~live.exists())))
    done = 0
    for need_id in ids:
        changed = session.execute(update(Need).where(
            Need.id == need_id, Need.status == NeedStatus.open)
            .values(status=NeedStatus.expired).execution_options(synchronize_session=False))
        if changed.rowcount:
            session.add(NeedEvent(need_id=need_id, kind="expired", actor_id=None,
                                  note="", created_at=now))
            done += 1
    if done:
        session.expire_all()
    return done


# ---- reading ----------------------------------------------------------------------------------

@dataclass
class WallQuery:
    region: Region | None = None
    category: str = ""
    kind: str = ""
    q: str = ""
    status: str = ""  # one of PUBLIC, or "" for all three


def search_condition(q: str):
    """The product search's analysis on the query: every term must match (any of its
    alternatives, with all its tokens) the need's title and description tokens."""
    terms = parse_query(q)
    if not terms:
        return None
    conds = []
    for term in terms:
        alts = [and_(*[Need.search_tokens.like(f"% {_escape(t)} %", escape="\\") for t in alt])
                for alt in term.alternatives if alt]
        if alts:
            conds.append(or_(*alts))
    return and_(*conds) if conds else None


def _escape(token: str) -> str:
    return token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def wall(session: Session, query: WallQuery, *, page: int = 1, per_page: int = 24
         ) -> tuple[list[Need], int]:
    """Approved needs (open, claimed, fulfilled), newest approved first, filtered."""
    village = aliased(Region)
    statuses = [NeedStatus(query.status)] if query.status in PUBLIC else list(PUBLIC)
    stmt = (select(Need).join(village, Need.village_id == village.id)
            .where(Need.status.in_(statuses)))
    if query.region is not None:
        stmt = stmt.where(village.path.like(query.region.path + "%"))
    if query.category:
        stmt = stmt.where(Need.category == query.category)
    if query.kind in (NeedKind.need, NeedKind.wish):
        stmt = stmt.where(Need.kind == query.kind)
    cond = search_condition(query.q)
    if cond is not None:
        stmt = stmt.where(cond)
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(Need.id).subquery())) or 0
    rows = session.scalars(stmt.order_by(
        (Need.status == NeedStatus.open).desc(), Need.approved_at.desc(), Need.id.desc())
        .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def visible_need(session: Session, viewer, need_id: int) -> Need:
    """A need as `viewer` may see it: approved ones for everyone; the others for those who
    post for its household and the offices over it; 404 otherwise."""
    need = session.get(Need, need_id)
    if need is None:
        raise NotFound("未找到该需求")
    if need.status in PUBLIC:
        return need
    if policy.reviews_need(viewer, need) or may_post_for(session, viewer, need.household):
        return need
    raise NotFound("未找到该需求")


def steps(session: Session, need: Need, *, public: bool = True) -> list[NeedEvent]:
    stmt = select(NeedEvent).where(NeedEvent.need_id == need.id)
    if public:
        stmt = stmt.where(NeedEvent.kind.in_(PUBLIC_STEPS))
    return list(session.scalars(stmt.order_by(NeedEvent.created_at, NeedEvent.id)))


def household_needs(session: Session, household_ids: list[int]) -> dict[int, list[Need]]:
    """Every need of these households (newest first), by household: for the liaison's page."""
    out: dict[int, list[Need]] = {h: [] for h in household_ids}
    if not household_ids:
        return out
    for need in session.scalars(select(Need).where(Need.household_id.in_(household_ids))
                                .order_by(Need.posted_at.desc(), Need.id.desc())):
        out[need.household_id].append(need)
    return out


def posted_by(session: Session, actor, *, limit: int = 100) -> list[Need]:
    """The needs `actor` posted or looks after (as liaison), newest first."""
    policy.require_user(actor)
    stmt = (select(Need).join(Household, Need.household_id == Household.id)
            .where(or_(Need.posted_by_id == actor.id, Household.liaison_id == actor.id))
            .order_by(Need.posted_at.desc(), Need.id.desc()).limit(limit))
    return list(session.scalars(stmt))


def wall_regions(session: Session) -> list[Region]:
    """The counties and townships of the villages with needs on the wall (the filter's
    choices), in code order."""
    village = aliased(Region)
    paths = session.scalars(select(village.path).distinct()
                            .join(Need, Need.village_id == village.id)
                            .where(Need.status.in_(PUBLIC)))
    codes = set()
    for path in paths:
        parts = [c for c in path.split("/") if c]
        codes.update(parts[2:4])
    if not codes:
        return []
    return list(session.scalars(select(Region).where(Region.code.in_(codes))
                                .order_by(Region.code)))
