"""Accounts: registration, authentication, roles, API tokens. No request objects in here."""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import bindparam, column, func, literal, or_, select, table
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session
from werkzeug.security import check_password_hash, generate_password_hash

from marketplace.accounts import guard
from marketplace.accounts.models import Role, RoleGrant, User
from marketplace.audit.models import AuditAction, AuditObject
from marketplace.audit.services import record
from marketplace.core import policy
from marketplace.core.db import attach, in_session, loaded, split_row
from marketplace.core.errors import Duplicate, NotFound, Unauthorized, ValidationFailed
from marketplace.core.pager import Page
from marketplace.core.time import now_utc
from marketplace.core.validators import classify_login, password_problem
from marketplace.extensions import db

TOKEN_SALT = "api-token"


def _hash_method() -> str:
    try:
        return current_app.config.get("PASSWORD_HASH_METHOD", "scrypt")
    except RuntimeError:
        return "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=_hash_method())


_DUMMY_HASHES: dict[str, str] = {}


def _dummy_hash() -> str:
    """A hash of a random password made the way passwords are hashed now: checked when nobody
    has the login typed, so that an unknown login costs what a wrong password costs."""
    method = _hash_method()
    if method not in _DUMMY_HASHES:
        _DUMMY_HASHES[method] = generate_password_hash(secrets.token_urlsafe(24), method=method)
    return _DUMMY_HASHES[method]


@dataclass
class Registration:
    login: str
    password: str
    display_name: str


def load_user(user_id: str) -> User | None:
    """Flask-Login's loader, for the session and the remember cookie: both hold User.get_id(),
    "<id>:<generation>"; one issued before the user's generation last moved is dead."""
    ident, _, generation = str(user_id).partition(":")
    try:
        user = get_user(db.session, int(ident))
        generation = int(generation)
    except (TypeError, ValueError):
        return None
    if user is None or not user.active or user.session_generation != generation:
        return None
    return user


USERS, GRANTS = User.__table__, RoleGrant.__table__
USER_AND_GRANTS = (select(USERS, *(c.label(f"grant_{c.key}") for c in GRANTS.c))
                   .outerjoin(GRANTS, GRANTS.c.user_id == USERS.c.id)
                   .where(USERS.c.id == bindparam("uid")).order_by(GRANTS.c.id))


def get_user(session: Session, user_id: int) -> User | None:
    """A user with its role grants, in one statement (every authenticated request needs both;
    this is its hot path, so the rows are read with Core and handed to the session)."""
    if not isinstance(user_id, int) or isinstance(user_id, bool):
        return None
    user = in_session(session, User, user_id)
    if user is not None:
        return user
    rows = [split_row(row, USERS, GRANTS)
            for row in session.connection().execute(USER_AND_GRANTS, {"uid": user_id})]
    if not rows:
        return None
    grants = [loaded(RoleGrant, grant) for _, grant in rows if grant["id"] is not None]
    return attach(session, loaded(User, rows[0][0], grants=grants))


def find_by_login(session: Session, login: str) -> User | None:
    kind = classify_login(login)
    if kind is None:
        return None
    column = User.email if kind[0] == "email" else User.mobile
    return session.scalar(select(User).where(column == kind[1]))


def register_user(session: Session, data: Registration, roles: tuple[Role, ...] = (Role.buyer,),
                  ) -> User:
    kind = classify_login(data.login)
    if kind is None:
        raise ValidationFailed("请输入有效的邮箱地址或 11 位手机号", field="login")
    problem = password_problem(data.password)
    if problem:
        raise ValidationFailed(problem, field="password")
    name = (data.display_name or "").strip()
    if not name:
        raise ValidationFailed("请填写昵称", field="display_name")
    if len(name) > 64:
        raise ValidationFailed("昵称不能超过 64 个字", field="display_name")
    if find_by_login(session, data.login) is not None:
        raise Duplicate("该邮箱或手机号已注册，请直接登录", field="login")
    user = User(display_name=name, password_hash=hash_password(data.password))
    setattr(user, kind[0], kind[1])
    user.grants = [RoleGrant(role=r) for r in roles]
    session.add(user)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Duplicate("该邮箱或手机号已注册，请直接登录", field="login") from None
    return user


def authenticate(session: Session, login: str, password: str, *,
                 address: str | None = None) -> User:
    """The user with this login and password. Guarded (accounts.guard): a login or an address
    (the client's, when given) with too many recent failures gets guard.TooManyAttempts without
    a look at the password; a failure is counted in `session`, so the caller commits it before
    answering (Unauthorized and TooManyAttempts alike). An unknown login has a password hash
    checked too, so that it answers as slowly as a wrong password."""
    now = now_utc()
    key = guard.login_key(login)
    guard.check(session, key, address, now)
    user = find_by_login(session, login)
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(),
                                  password or "")
    if user is None or not matches:
        guard.failed(session, key, address, now)
        raise Unauthorized("账号或密码不正确")
    if not user.active:
        raise Unauthorized("该账号已停用，请联系平台管理员")
    guard.succeeded(session, key)
    user.last_login_at = now
    return user


def set_password(user: User, password: str) -> None:
    """A new password; every session, remember cookie and API token of the user issued before
    ends (sign the current browser in again: the views do)."""
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, field="password")
    user.password_hash = hash_password(password)
    _next_generation(user)


def _next_generation(user: User) -> None:
    """Raise the user's session generation in the database (an UPDATE ... + 1: two at once
    both count); flushed, so the new value is read back on use."""
    session = object_session(user)
    if session is None:  # not stored yet
        user.session_generation = (user.session_generation or 0) + 1
        return
    user.session_generation = User.session_generation + 1
    session.flush()


def sign_out_everywhere(session: Session, user: User) -> None:
    """End every session, remember cookie and API token of `user` issued so far."""
    _next_generation(user if object_session(user) is session else session.get(User, user.id))


# ---- the sign-in guard, for admins ------------------------------------------------------------

def login_locks(session: Session) -> list[guard.Lock]:
    """The logins and addresses that wait now (too many failed sign-ins), longest wait first."""
    return guard.locks(session, now_utc())


def lift_login_lock(session: Session, actor: User, *, login: str | None = None,
                    address: str | None = None) -> int:
    """A platform admin lets a login (or an address) try again now: its failures are
    forgotten. How many were; NotFound when there were none (lifted or expired meanwhile)."""
    policy.check_admin(actor)
    key = guard.login_key(login) if login else None
    if not key and not address:
        raise ValidationFailed("请指明要解除锁定的账号或地址")
    lifted = guard.lift(session, key=key, address=None if key else address)
    if not lifted:
        raise NotFound("没有找到该锁定，它可能已解除或已过期")
    # the audit log: on the account's row; a login without one, or an address, by its text
    user = find_by_login(session, login) if key else None
    target = {} if user is not None else ({"login": key} if key else {"address": address})
    record(session, actor, AuditAction.login_lock_lifted,
           AuditObject.user if user is not None else AuditObject.login,
           user.id if user is not None else None,
           before={**target, "failures": lifted}, after={**target, "failures": 0})
    return lifted


# ---- the platform admins' list of users ---------------------------------------------------------

@dataclass(frozen=True)
class UserSearch:
    """What the admins' list of users is narrowed to: `q` a piece of the email, mobile or
    display name; `role` holders of one role. Empty: everyone."""
    q: str = ""
    role: Role | None = None

    @property
    def active(self) -> bool:
        return bool(self.q or self.role)


def search_users(session: Session, search: UserSearch, *, page: int = 1,
                 per_page: int = 50) -> Page[User]:
    """One page of users, newest first."""
    stmt = select(User)
    if search.q:
        needle = search.q.lower()
        stmt = stmt.where(or_(func.lower(User.email).contains(needle, autoescape=True),
                              User.mobile.contains(needle, autoescape=True),
                              User.display_name.contains(search.q, autoescape=True)))
    if search.role is not None:
        stmt = stmt.where(select(RoleGrant.id).where(
            RoleGrant.user_id == User.id, RoleGrant.role == search.role).exists())
    total = session.scalar(select(func.count()).select_from(
        stmt.with_only_columns(User.id).subquery())) or 0
    items = session.scalars(stmt.order_by(User.id.desc())
                            .offset((page - 1) * per_page).limit(per_page))
    return Page(list(items), total, page, per_page)


def _row_exists(session: Session, table_name: str, ident: int) -> bool:
    """Whether the table a grant's foreign key names has the row (accounts sit below sellers
    in the layers, so the table is named, not its model imported)."""
    id_ = column("id")
    return session.execute(select(literal(1)).select_from(table(table_name, id_))
                           .where(id_ == ident)).first() is not None


def grant_role(session: Session, user: User, role: Role, *, seller_id: int | None = None,
               region_id: int | None = None, actor: User | None = None) -> RoleGrant:
    """Give `user` the role (seller staff bound to a seller, an office to a region), as `actor`
    decided (None: the system, e.g. a command); a role the user already holds is left as it is.
    A new grant is written to the audit log."""
    if role == Role.seller_staff and not seller_id:
        raise ValidationFailed("经营主体员工必须绑定一个经营主体", field="seller_id")
    if role == Role.office and not region_id:
        raise ValidationFailed("帮扶办账号必须绑定一个行政区域", field="region_id")
    # an unknown id would otherwise surface as a foreign-key error (a 500) at flush
    if role == Role.seller_staff and not _row_exists(session, "sellers", seller_id):
        raise ValidationFailed("未找到该经营主体", field="seller_id")
    if role == Role.office and not _row_exists(session, "regions", region_id):
        raise ValidationFailed("未找到该行政区域", field="region_id")
    for g in user.grants:
        if g.role == role and g.seller_id == seller_id and g.region_id == region_id:
            return g
    grant = RoleGrant(role=role, seller_id=seller_id if role == Role.seller_staff else None,
                      region_id=region_id if role == Role.office else None)
    user.grants.append(grant)
    session.flush()
    record(session, actor, AuditAction.role_granted, AuditObject.user, user.id,
           after=_grant_fields(grant))
    return grant


def _grant_fields(grant: RoleGrant) -> dict:
    """A grant as the audit log keeps it: its role and what it is bound to."""
    fields: dict = {"role": grant.role}
    if grant.seller_id:
        fields["seller_id"] = grant.seller_id
        fields["seller"] = grant.seller.name if grant.seller is not None else None
    if grant.region_id:
        fields["region"] = grant.region.code if grant.region is not None else None
    return fields


def revoke_grant(session: Session, user: User, grant_id: int, *,
                 actor: User | None = None) -> None:
    """Take a role from `user`, as `actor` decided (written to the audit log); 404 for a grant
    the user does not hold."""
    grant = next((g for g in user.grants if g.id == grant_id), None)
    if grant is None:
        raise NotFound("未找到该角色")
    before = _grant_fields(grant)
    user.grants.remove(grant)
    session.flush()
    record(session, actor, AuditAction.role_revoked, AuditObject.user, user.id, before=before)
    _next_generation(user)  # what the role let them do ends with their sessions


def _serializer(secret_key: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT)


def issue_token(user: User, secret_key: str) -> str:
    """A signed (not secret) token naming the user and their session generation: a new
    password, signing out and a role revoked end it. Nothing of the password is in it."""
    return _serializer(secret_key).dumps({"uid": user.id, "gen": user.session_generation or 0})


def user_from_token(session: Session, token: str, secret_key: str, max_age: int) -> User:
    try:
        data = _serializer(secret_key).loads(token, max_age=max_age)
    except SignatureExpired:
        raise Unauthorized("令牌已过期，请重新获取") from None
    except BadSignature:
        raise Unauthorized("令牌无效") from None
    user = get_user(session, data.get("uid")) if isinstance(data, dict) else None
    generation = data.get("gen") if isinstance(data, dict) else None
    if (user is None or not user.active or isinstance(generation, bool)
            or generation != user.session_generation):
        raise Unauthorized("令牌无效")
    return user
