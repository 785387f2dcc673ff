"""Platform-admin console (/admin): seller and product review queues, users and roles, regions.

Every route is behind roles_required(Role.platform_admin) (a blueprint-wide guard): anonymous
visitors go to the log-in page, signed-in users without the role get 403. The services check
again (policy.check_admin) where they change state.

Every action goes through core.forms.submit with its form: on success a flash and back to the
list; a domain error shows the list again with the message on the action's row (the review
queues) or in its form (users, regions). Revoking a role is a one-click button whose only
failure is 404: core.forms.commit_or_flash.
"""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.accounts import services as accounts
from marketplace.accounts.models import ROLE_LABELS, Role, User
from marketplace.admin.forms import (
    ApproveForm,
    GrantForm,
    RegionAddForm,
    RegionImportForm,
    RegionRenameForm,
    RejectForm,
    SuspendForm,
    VerifyForm,
)
from marketplace.audit import services as audit
from marketplace.audit.models import AuditObject
from marketplace.catalog import services as catalog
from marketplace.core.errors import NotFound, ValidationFailed
from marketplace.core.forms import commit_or_flash, form_messages, form_status, submit
from marketplace.core.i18n import translate_message
from marketplace.core.inputs import id_value, safe_next
from marketplace.core.pager import requested_page
from marketplace.core.policy import roles_required
from marketplace.extensions import db
from marketplace.regions import services as regions
from marketplace.regions.models import LEVEL_LABELS, Region
from marketplace.sellers import services as sellers
from marketplace.sellers.models import SELLER_STATUS_LABELS, Seller, SellerStatus

bp = Blueprint("admin", __name__, url_prefix="/admin")
USERS_PER_PAGE = 30


@bp.before_request
@roles_required(Role.platform_admin)
def _platform_admins_only():
    return None


def _back(default: str):
    return redirect(safe_next(request.form.get("next"), default))


# ---- overview ---------------------------------------------------------------------------------

@bp.route("")
def index():
    seller_counts = {str(k): v for k, v in sellers.count_by_status(db.session).items()}
    pending_products = len(catalog.review_queue(db.session))
    return render_template("admin/index.html", seller_counts=seller_counts,
                           pending_products=pending_products, labels=SELLER_STATUS_LABELS)


# ---- sellers ----------------------------------------------------------------------------------

def _seller_status() -> SellerStatus:
    try:
        return SellerStatus(request.args.get("status") or SellerStatus.pending)
    except ValueError:
        return SellerStatus.pending


def _render_sellers(status: SellerStatus, row_errors: dict | None = None, code: int = 200):
    items = sellers.queue(db.session, status)
    ids = {s.applicant_id for s in items if s.applicant_id}
    applicants = ({u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
                  if ids else {})
    counts = {str(k): v for k, v in sellers.count_by_status(db.session).items()}
    return render_template("admin/sellers.html", items=items, status=status,
                           applicants=applicants, counts=counts, labels=SELLER_STATUS_LABELS,
                           statuses=list(SellerStatus), row_errors=row_errors or {},
                           audit_by=audit.entries_by_object(db.session, current_user,
                                                            AuditObject.seller, items)), code


@bp.route("/sellers")
def sellers_queue():
    return _render_sellers(_seller_status())


def _row_action(form, work, success: str, *, row_id: int, render, back: str):
    """An action on a row of a review queue, through submit: then back to the list (`back`, or
    the form's `next`); when it did not go through, the list again (`render`) with the form's
    messages on that row, answering with the domain error's status (400 for input the form
    itself refused)."""
    done = submit(form, work, success=success)
    if done.ok:
        return _back(back)
    return render({row_id: form_messages(form)}, done.error.status if done.error else 400)


def _sellers_with_errors(row_errors: dict, code: int):
    return _render_sellers(_seller_status(), row_errors, code)


@bp.route("/sellers/<int:seller_id>/verify", methods=["POST"])
def seller_verify(seller_id: int):
    seller = sellers.get_managed(db.session, current_user, seller_id)
    return _row_action(VerifyForm(), lambda: sellers.verify(db.session, current_user, seller),
                       _("已认证：%(name)s", name=seller.name), row_id=seller_id,
                       render=_sellers_with_errors, back=url_for("admin.sellers_queue"))


@bp.route("/sellers/<int:seller_id>/suspend", methods=["POST"])
def seller_suspend(seller_id: int):
    seller = sellers.get_managed(db.session, current_user, seller_id)
    form = SuspendForm()
    return _row_action(form, lambda: sellers.suspend(db.session, current_user, seller,
                                                     form.note.data or ""),
                       _("已暂停：%(name)s", name=seller.name), row_id=seller_id,
                       render=_sellers_with_errors, back=url_for("admin.sellers_queue"))


@bp.route("/sellers/<int:seller_id>/reject", methods=["POST"])
def seller_reject(seller_id: int):
    seller = sellers.get_managed(db.session, current_user, seller_id)
    form = RejectForm()
    return _row_action(form, lambda: sellers.reject(db.session, current_user, seller,
                                                    form.reason.data or ""),
                       _("已驳回入驻申请：%(name)s", name=seller.name), row_id=seller_id,
                       render=_sellers_with_errors, back=url_for("admin.sellers_queue"))


# ---- products ---------------------------------------------------------------------------------

def _render_products(row_errors: dict | None = None, code: int = 200):
    items = catalog.review_queue(db.session)
    return render_template("admin/products.html", items=items,
                           row_errors=row_errors or {},
                           audit_by=audit.entries_by_object(db.session, current_user,
                                                            AuditObject.product, items)), code


@bp.route("/products")
def products_queue():
    return _render_products()


@bp.route("/products/<int:product_id>/approve", methods=["POST"])
def product_approve(product_id: int):
    product = catalog.get_managed(db.session, current_user, product_id)
    form = ApproveForm()
    return _row_action(form, lambda: catalog.approve(
        db.session, current_user, product, certificate_checked=bool(form.certificate_checked.data)),
        _("已通过审核并上架：%(name)s", name=product.name), row_id=product_id,
        render=_render_products, back=url_for("admin.products_queue"))


@bp.route("/products/<int:product_id>/reject", methods=["POST"])
def product_reject(product_id: int):
    product = catalog.get_managed(db.session, current_user, product_id)
    form = RejectForm()
    return _row_action(form, lambda: catalog.reject(db.session, current_user, product,
                                                    form.reason.data or ""),
                       _("已驳回：%(name)s", name=product.name), row_id=product_id,
                       render=_render_products, back=url_for("admin.products_queue"))


# ---- users and roles --------------------------------------------------------------------------

def _user_search() -> accounts.UserSearch:
    q = " ".join((request.args.get("q") or "").split())[:254]
    try:
        role = Role(request.args.get("role") or "")
    except ValueError:
        role = None
    return accounts.UserSearch(q, role)


def _grant_form(user_id: int, **kw) -> GrantForm:
    return GrantForm(prefix=f"u{user_id}", **kw)  # one form per listed user: distinct ids


def _render_users(forms: dict | None = None, code: int = 200):
    search = _user_search()
    pager = accounts.search_users(db.session, search, page=requested_page(request.args),
                                  per_page=USERS_PER_PAGE)
    items = pager.items
    seller_choices = [("", _("选择经营主体"))] + [
        (str(s.id), s.name) for s in db.session.scalars(select(Seller).order_by(Seller.name))]
    forms = dict(forms or {})
    for user in items:
        if user.id not in forms:
            forms[user.id] = _grant_form(user.id, formdata=None)
        forms[user.id].seller_id.choices = seller_choices
    return render_template("admin/users.html", items=items, pager=pager, search=search,
                           forms=forms, role_labels=ROLE_LABELS,
                           audit_by=audit.entries_by_object(db.session, current_user,
                                                            AuditObject.user, items)), code


@bp.route("/users")
def users():
    return _render_users()


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound(_("未找到该用户"))
    return user


def _grant_role(form: GrantForm, user: User) -> None:
    try:
        role = Role(form.role.data)
    except ValueError:
        raise ValidationFailed(_("请选择角色"), field="role") from None
    accounts.grant_role(db.session, user, role, actor=current_user, **_grant_scope(form, role))


def _grant_scope(form: GrantForm, role: Role) -> dict:
    """Turn the seller select and the region code into ids; unknown ones are input errors."""
    if role == Role.seller_staff:
        raw = (form.seller_id.data or "").strip()
        seller_id = id_value(raw)
        seller = db.session.get(Seller, seller_id) if seller_id else None
        if seller is None:
            raise ValidationFailed(_("请选择经营主体"), field="seller_id")
        return {"seller_id": seller.id}
    if role == Role.office:
        region = regions.find_by_code(db.session, form.region_code.data or "")
        if region is None:
            raise ValidationFailed(_("请输入系统中已有的行政区划代码"), field="region_code")
        return {"region_id": region.id}
    return {}


@bp.route("/users/<int:user_id>/grant", methods=["POST"])
def user_grant(user_id: int):
    user = _user(user_id)
    form = _grant_form(user_id)
    done = submit(form, lambda: _grant_role(form, user),
                  success=_("已为 %(user)s 添加角色", user=user.login_name))
    if done.ok:
        return _back(url_for("admin.users"))
    return _render_users({user_id: form}, 400)


@bp.route("/users/<int:user_id>/grants/<int:grant_id>/revoke", methods=["POST"])
def user_revoke(user_id: int, grant_id: int):
    user = _user(user_id)
    commit_or_flash(lambda: accounts.revoke_grant(db.session, user, grant_id,  # unknown: 404
                                                  actor=current_user),
                    _("已撤销 %(user)s 的一个角色", user=user.login_name), reraise_access=True)
    return _back(url_for("admin.users"))


# ---- sign-in locks ----------------------------------------------------------------------------

@bp.route("/logins")
def login_locks():
    """The logins and client addresses that wait after too many failed sign-ins."""
    return render_template("admin/logins.html", locks=accounts.login_locks(db.session),
                           limit=current_app.config["LOGIN_FAILURE_LIMIT"],
                           minutes=current_app.config["LOGIN_FAILURE_WINDOW_MINUTES"])


@bp.route("/logins/lift", methods=["POST"])
def login_lock_lift():
    kind, key = request.form.get("kind"), (request.form.get("key") or "").strip()
    target = {"address": key} if kind == "address" else {"login": key}
    commit_or_flash(lambda: accounts.lift_login_lock(db.session, current_user, **target),
                    _("已解除锁定：%(key)s", key=key))
    return redirect(url_for("admin.login_locks"))


# ---- regions ----------------------------------------------------------------------------------

def _render_regions(region, *, add_form=None, rename_form=None, import_form=None,
                    import_lines=None, code: int = 200):
    ancestors = []
    if region is not None:
        codes = region.path_codes[:-1]
        if codes:
            found = {r.code: r for r in db.session.scalars(
                select(Region).where(Region.code.in_(codes)))}
            ancestors = [found[c] for c in codes if c in found]
    rename_form = rename_form or RegionRenameForm(formdata=None, prefix="rename",
                                                  name=region.name if region else "")
    return render_template(
        "admin/regions.html", region=region, ancestors=ancestors,
        children=regions.children(db.session, region), level_labels=LEVEL_LABELS,
        add_form=add_form or RegionAddForm(formdata=None),
        rename_form=rename_form, import_form=import_form or RegionImportForm(formdata=None),
        import_lines=import_lines or []), code


def _region_or_404(code: str | None):
    return regions.get_by_code(db.session, code) if code else None


@bp.route("/regions")
@bp.route("/regions/<code>")
def regions_page(code: str | None = None):
    return _render_regions(_region_or_404(code))


@bp.route("/regions/add", methods=["POST"])
@bp.route("/regions/<code>/add", methods=["POST"])
def region_add(code: str | None = None):
    parent = _region_or_404(code)
    form = RegionAddForm()
    done = submit(form, lambda: regions.add_region(
        db.session, (form.code.data or "").strip(), (form.name.data or "").strip(),
        parent.code if parent else None), success=lambda child: _("已添加：%(name)s",
                                                                  name=child.name))
    if done.ok:
        return redirect(url_for("admin.regions_page", code=code) if code
                        else url_for("admin.regions_page"))
    return _render_regions(parent, add_form=form, code=form_status(form))


@bp.route("/regions/<code>/rename", methods=["POST"])
def region_rename(code: str):
    region = _region_or_404(code)
    form = RegionRenameForm(prefix="rename")
    done = submit(form, lambda: regions.rename(db.session, region, form.name.data or ""),
                  success=_("已更名"))
    if done.ok:
        return redirect(url_for("admin.regions_page", code=code))
    return _render_regions(region, rename_form=form, code=form_status(form))


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GB18030/GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationFailed(_("无法识别文件编码：请保存为 UTF-8 编码的 CSV"), field="file")


def _import_regions(upload) -> regions.ImportReport:
    if upload is None or not getattr(upload, "filename", ""):
        raise ValidationFailed(_("请选择 CSV 文件"), field="file")
    return regions.import_csv_text(db.session, _decode_csv(upload.read()))


@bp.route("/regions/import", methods=["POST"])
def region_import():
    form = RegionImportForm()
    done = submit(form, lambda: _import_regions(form.file.data), success=lambda report: _(
        "导入完成：新增 %(c)s 个，更名 %(r)s 个，未变 %(u)s 个",
        c=report.created, r=report.renamed, u=report.unchanged))
    if done.ok:
        return redirect(url_for("admin.regions_page"))
    lines = (done.error.lines if isinstance(done.error, regions.RegionImportError) else [])
    return _render_regions(None, import_form=form, code=form_status(form),
                           import_lines=[translate_message(line) for line in lines])
