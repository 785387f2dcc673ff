"""Every permission check lives here: role decorators for views and object rules for services.

Objects another user may not see answer 404 (NotFound), not 403, so that their existence is not
revealed; a whole area the user's roles do not reach answers 403.
"""
from __future__ import annotations

from functools import wraps

from flask import current_app, request
from flask_login import current_user

from marketplace.core.errors import Forbidden, NotFound, Unauthorized
from marketplace.core.roles import Role


def is_admin(user) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and user.has_role(Role.platform_admin))


def require_user(user):
    if user is None or not getattr(user, "is_authenticated", False):
        raise Unauthorized("请先登录")
    return user


def require_any_role(user, *roles: Role):
    user = require_user(user)
    if is_admin(user) or any(user.has_role(r) for r in roles):
        return user
    raise Forbidden("您没有访问此页面的权限")


def roles_required(*roles: Role):
    """View decorator: the signed-in user must hold one of `roles` (platform admins pass)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return current_app.login_manager.unauthorized()
            require_any_role(current_user, *roles)
            return view(*args, **kwargs)

        return wrapped

    return decorator


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()
        return view(*args, **kwargs)

    return wrapped


# ---- sellers and products -------------------------------------------------------------------

def staff_of(user, seller_id: int) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False)
                and seller_id in user.seller_ids())


def check_manage_seller(user, seller) -> None:
    """Seller staff manage their own seller; admins any. Others: 404."""
    if seller is None or not (is_admin(user) or staff_of(user, seller.id)):
        raise NotFound("未找到该经营主体")


def check_manage_product(user, product) -> None:
    if product is None or not (is_admin(user) or staff_of(user, product.seller_id)):
        raise NotFound("未找到该商品")


def check_admin(user) -> None:
    require_user(user)
    if not is_admin(user):
        raise Forbidden("仅平台管理员可以执行此操作")


# ---- regions and households -----------------------------------------------------------------

def office_paths(user) -> list[str]:
    """The region paths an office user covers (each a subtree)."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    return [g.region.path for g in user.grants if g.role == Role.office and g.region is not None]


def office_covers(user, region) -> bool:
    return region is not None and any(region.path.startswith(p) for p in office_paths(user))


def check_register_household(user, village) -> None:
    """Liaisons (for themselves), offices over the village and admins register households."""
    user = require_user(user)
    if is_admin(user) or office_covers(user, village) or user.has_role(Role.liaison):
        return
    if user.has_role(Role.office):
        raise Forbidden("该村不在您所在帮扶办的管辖范围内")
    raise Forbidden("只有帮扶联络人、帮扶办或平台管理员可以登记帮扶对象")


def can_view_household(user, household) -> bool:
    if household is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    return (is_admin(user) or household.liaison_id == user.id
            or office_covers(user, household.village))


def check_view_household(user, household) -> None:
    if not can_view_household(user, household):
        raise NotFound("未找到该帮扶对象")


# ---- the audit log ----------------------------------------------------------------------------

def check_audit_log(user) -> None:
    """The whole audit log, with its filters, is for platform admins (403 for others)."""
    require_user(user)
    if not is_admin(user):
        raise Forbidden("仅平台管理员可以查看操作记录")


def can_view_object(user, object_type: str, obj) -> bool:
    """Whether `user` may see `obj`, and so its entries in the audit log. `object_type` is one
    of `audit.models.AuditObject`'s values: a seller, its products and its supply lots for its
    staff; a household for its liaison and the offices over it; a user for themselves; every
    one for platform admins."""
    if obj is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    if object_type == "household":
        return can_view_household(user, obj)
    if is_admin(user):
        return True
    if object_type == "seller":
        return staff_of(user, obj.id)
    if object_type in ("product", "supply_lot"):
        return staff_of(user, obj.seller_id)
    if object_type == "user":
        return obj.id == user.id
    return False


def check_view_object(user, object_type: str, obj) -> None:
    if not can_view_object(user, object_type, obj):
        raise NotFound("未找到该对象")


def wants_json() -> bool:
    return request.path.startswith("/api/")


# ---- units' annual filings (units.filings) ------------------------------------------------------
# `unit` is a units.models.Unit (duck-typed: its `members` and `office_region`); core imports no
# domain.

def files_for_unit(user, unit) -> bool:
    """The user is one of the unit's admins (who file its reserved share)."""
    return bool(unit is not None and user is not None
                and getattr(user, "is_authenticated", False)
                and any(m.user_id == user.id and m.is_admin for m in unit.members))


def reviews_filings_of(user, unit) -> bool:
    """Platform admins and the offices whose subtree holds the unit's supervising region."""
    return bool(unit is not None and user is not None
                and getattr(user, "is_authenticated", False)
                and (is_admin(user) or office_covers(user, unit.office_region)))


def check_file_for_unit(user, unit) -> None:
    require_user(user)
    if not files_for_unit(user, unit):
        raise NotFound("未找到该单位")


def check_review_filing(user, filing) -> None:
    require_user(user)
    if filing is None or not reviews_filings_of(user, filing.unit):
        raise NotFound("未找到该填报")


def check_view_unit_filings(user, unit) -> None:
    """A unit's filings and progress: its members (admins file), its office, platform admins."""
    require_user(user)
    if unit is None or not (reviews_filings_of(user, unit)
                            or any(m.user_id == user.id for m in unit.members)):
        raise NotFound("未找到该单位")


# ---- units: who sees and manages a unit (units.services) --------------------------------------
# `member` is the user's units.models.UnitMember row of the unit, or None (the service reads it
# with one query: a unit may have thousands of members).

def can_view_unit(user, unit, member) -> bool:
    """Its members, its applicant (a pending or turned-down application), the offices over its
    region, platform admins."""
    if unit is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(member is not None or is_admin(user) or unit.applied_by == user.id
                or office_covers(user, unit.region))


def check_view_unit(user, unit, member) -> None:
    require_user(user)
    if not can_view_unit(user, unit, member):
        raise NotFound("未找到该单位")


def check_manage_unit(user, unit, member) -> None:
    """Its admins (members, invites, leaderboard) and platform admins; those who may see it
    but not manage it get 403, everyone else 404."""
    check_view_unit(user, unit, member)
    if not (is_admin(user) or (member is not None and member.is_admin)):
        raise Forbidden("只有单位管理员可以执行此操作")


# ---- group purchases: who sees a campaign's orders (units.campaign_views) -----------------------

def sees_campaign_orders(user, seller_id: int, manages: bool) -> bool:
    """A campaign's orders together, and its distribution list: the campaign's managers (its
    unit's admins, platform admins; `manages` from units.campaigns.can_manage) and the staff of
    the seller whose products it sells."""
    return bool(manages or staff_of(user, seller_id))


# ---- offices' reports (reports.views, the reports API) ------------------------------------------
# `region` is a regions.models.Region (duck-typed: its `path`), or None for everywhere.

def report_roots(user) -> list | None:
    """The regions whose reports the user reads, each a subtree: None for platform admins
    (everywhere), else the regions of their office grants (perhaps none)."""
    require_user(user)
    if is_admin(user):
        return None
    return [g.region for g in user.grants if g.role == Role.office and g.region is not None]


def check_report_region(user, region) -> None:
    """A report over `region` (None: everywhere) for platform admins, and for an office over a
    region inside its subtree; 404 for anything else."""
    roots = report_roots(user)
    if roots is None:
        return
    if region is None or not any(region.path.startswith(r.path) for r in roots):
        raise NotFound("该地区不存在，或不在您的管辖范围内")


# ---- needs and micro-wishes (help.needs) --------------------------------------------------------
# `household` is a households.models.Household, `need` a help.needs.models.Need (duck-typed: the
# household's `liaison_id` and `village`, the need's `household`); `own` says the user is the
# household's own account (the staff of its household shop), which the service finds out.

def posts_need_for(user, household, own: bool = False) -> bool:
    """The household's liaison, an office over its village, its own account, platform admins."""
    if household is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(is_admin(user) or household.liaison_id == user.id
                or office_covers(user, household.village) or own)


def check_post_need(user, household, own: bool = False) -> None:
    require_user(user)
    if not posts_need_for(user, household, own):
        raise NotFound("未找到该帮扶对象")


def reviews_need(user, need) -> bool:
    """Platform admins and the offices whose subtree holds the need's household."""
    return bool(need is not None and user is not None
                and getattr(user, "is_authenticated", False)
                and (is_admin(user) or office_covers(user, need.household.village)))


def check_review_need(user, need) -> None:
    require_user(user)
    if not reviews_need(user, need):
        raise NotFound("未找到该需求")


# ---- micro-wishes: who prints cards and wall sheets (help.needs.wish_views) ---------------------
# `household` is a households.models.Household (duck-typed: its `liaison_id` and `village`);
# `village` a regions.models.Region.

def prints_wishes_of(user, household) -> bool:
    """A household's wish cards: its liaison, the offices over its village, platform admins."""
    return bool(household is not None and user is not None
                and getattr(user, "is_authenticated", False)
                and (is_admin(user) or household.liaison_id == user.id
                     or office_covers(user, household.village)))


def check_print_wish(user, household) -> None:
    require_user(user)
    if not prints_wishes_of(user, household):
        raise NotFound("未找到该微心愿")


def prints_village_wishes(user, village) -> bool:
    """Every wish of a village, on cards or the wall sheet: the offices over the village and
    platform admins (a liaison prints only their own households' wishes)."""
    return bool(village is not None and user is not None
                and getattr(user, "is_authenticated", False)
                and (is_admin(user) or office_covers(user, village)))


# ---- fairs and live-sale events (help.events) -----------------------------------------------
# `unit_admin`: whether the user is an admin of the event's unit (the service reads it).

def can_manage_event(user, event, unit_admin: bool = False) -> bool:
    """An event's organisers: the offices over its region, the admins of its unit (a unit's
    event), platform admins."""
    if event is None or user is None or not getattr(user, "is_authenticated", False):
        return False
    return bool(is_admin(user) or office_covers(user, event.region)
                or (event.unit_id is not None and unit_admin))


def check_manage_event(user, event, unit_admin: bool = False) -> None:
    require_user(user)
    if not can_manage_event(user, event, unit_admin):
        raise NotFound("未找到该活动")
