"""Seller console (/seller): application, the seller's products and images, cooperative members.

Views stay thin: form -> service -> DomainError back onto the form -> commit -> redirect, through
core.forms.submit (one-click buttons: commit_or_flash). The seller a page works on is
?seller=<id> (checked by policy through sellers.services.get_managed), else the first seller the
user staffs. Another seller's product answers 404.
"""
from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.audit import services as audit
from marketplace.audit.models import AuditObject
from marketplace.catalog import services as catalog
from marketplace.catalog.models import PRODUCT_STATUS_LABELS, ProductStatus
from marketplace.core.forms import commit_or_flash, form_status, posted_text, submit
from marketplace.core.inputs import id_value, safe_next
from marketplace.core.money import fen_to_yuan_text
from marketplace.core.pager import requested_page
from marketplace.core.policy import login_required, roles_required
from marketplace.core.time import today_china
from marketplace.extensions import db
from marketplace.ledger import lots
from marketplace.orders import lists as order_lists
from marketplace.regions import services as regions
from marketplace.regions.models import RegionLevel
from marketplace.sellers import services as sellers
from marketplace.sellers.console import console_seller, my_sellers
from marketplace.sellers.forms import (
    PRODUCT_FIELDS,
    ApplyForm,
    LotForm,
    MemberForm,
    ProductForm,
    ProductTermsForm,
    SellerShareForm,
)
from marketplace.sellers.models import SellerKind, SellerStatus

bp = Blueprint("seller", __name__, url_prefix="/seller")

# statuses from which staff may send a product (back) to review; decides which buttons show
SUBMITTABLE = (ProductStatus.draft, ProductStatus.rejected, ProductStatus.delisted)
DELISTABLE = (ProductStatus.listed, ProductStatus.pending)
TAB_ORDER = (ProductStatus.draft, ProductStatus.pending, ProductStatus.listed,
             ProductStatus.rejected, ProductStatus.delisted)


# ---- helpers ---------------------------------------------------------------------------------

def _region_choices():
    found = (regions.regions_at_level(db.session, RegionLevel.county)
             + regions.regions_at_level(db.session, RegionLevel.township))
    found.sort(key=lambda r: r.code)
    return [("", _("请选择所在县或乡镇"))] + [
        (r.code, " · ".join(r.path_names[2:]) or r.name) for r in found]


def _village_choices():
    """Villages grouped by their township (optgroups), each group labelled by its place."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for v in regions.villages_under(db.session, None):
        parent = " · ".join(v.path_names[2:-1]) or v.name_path
        groups.setdefault(parent, []).append((v.code, v.name))
    return {"": [("", _("请选择产地村"))], **groups}


def _fill_product_choices(form: ProductForm) -> None:
    form.category.choices = [("", _("请选择分类"))] + [
        (c.slug, f"{c.icon} {c.name_for(str(get_locale() or 'zh'))}".strip())
        for c in catalog.categories(db.session)]
    form.origin_code.choices = _village_choices()


def _product_input(form: ProductForm) -> catalog.ProductInput:
    return catalog.ProductInput(**{name: getattr(form, name).data for name in PRODUCT_FIELDS},
                                provided=set(PRODUCT_FIELDS),
                                stock_shown=request.form.get("stock_shown"))


def _initial(product) -> dict:
    return {
        "name": product.name, "category": product.category.slug, "spec": product.spec,
        "description": product.description, "price": fen_to_yuan_text(product.price_fen),
        "stock": str(product.on_hand), "origin_code": product.origin.code,
        "certificate_no": product.certificate_no,
        "certificate_valid_until": (product.certificate_valid_until.isoformat()
                                    if product.certificate_valid_until else ""),
    }


def _sent_images() -> list:
    return [f for f in request.files.getlist("images") if f and f.filename]


def _uploads() -> list[catalog.UploadedImage]:
    return [catalog.UploadedImage(f.filename or "", f.read()) for f in _sent_images()]


def _wants_submit() -> bool:
    return request.form.get("action") == "submit"


# ---- application and overview -----------------------------------------------------------------

def _application(form: ApplyForm) -> sellers.SellerApplication:
    return sellers.SellerApplication(
        kind=form.kind.data, name=form.name.data, region_code=form.region_code.data,
        contact_name=form.contact_name.data, contact_mobile=form.contact_mobile.data,
        description=form.description.data or "", credit_code=form.credit_code.data or "",
        household_code=form.household_code.data or "",
        household_id_number=form.household_id_number.data or "")


def _application_initial(seller) -> dict:
    return {"kind": seller.kind.value, "name": seller.name, "region_code": seller.region.code,
            "contact_name": seller.contact_name, "contact_mobile": seller.contact_mobile,
            "description": seller.description, "credit_code": seller.credit_code or "",
            "household_code": seller.household.code if seller.household else ""}


@bp.route("/apply", methods=["GET", "POST"])
@login_required
def apply():
    form = ApplyForm()
    form.region_code.choices = _region_choices()
    done = submit(form, lambda: sellers.apply(db.session, current_user, _application(form)),
                  success=_("入驻申请已提交，等待平台审核。审核期间可以先录入商品草稿。"))
    if done.ok:
        return redirect(url_for("seller.index", seller=done.value.id))
    rejected = [s for s in my_sellers() if s.status == SellerStatus.rejected]
    return render_template("seller/apply.html", form=form, rejected=rejected
                           ), form_status(form)


@bp.route("/reapply", methods=["GET", "POST"])
@roles_required(Role.seller_staff)
def reapply():
    """The application the platform turned down, filled in as it was, to change and send again
    (the same seller: sellers.services.resubmit)."""
    _mine, seller = console_seller()
    if request.method == "GET" and seller.status != SellerStatus.rejected:
        return redirect(url_for("seller.index", seller=seller.id))
    form = ApplyForm(data=None if request.method == "POST" else _application_initial(seller))
    form.region_code.choices = _region_choices()
    done = submit(form, lambda: sellers.resubmit(db.session, current_user, seller,
                                                 _application(form)),
                  success=_("入驻申请已重新提交，等待平台审核。"))
    if done.ok:
        return redirect(url_for("seller.index", seller=seller.id))
    return render_template("seller/apply.html", form=form, reapplying=seller
                           ), form_status(form)


@bp.route("", methods=["GET"])
@login_required
def index():
    mine = my_sellers()
    if not mine and not request.args.get("seller"):
        flash(_("您还没有经营主体，请先提交入驻申请。"), "warning")
        return redirect(url_for("seller.apply"))
    mine, seller = console_seller()
    counts = {str(k): v for k, v in catalog.status_counts(db.session, seller).items()}
    return render_template("seller/index.html", sellers=mine, seller=seller, counts=counts,
                           tabs=TAB_ORDER, labels=PRODUCT_STATUS_LABELS,
                           order_tabs=order_lists.SELLER_TABS,
                           order_labels=order_lists.SELLER_TAB_LABELS,
                           order_counts=order_lists.seller_counts(db.session, seller.id))


# ---- products ---------------------------------------------------------------------------------

@bp.route("/products")
@roles_required(Role.seller_staff)
def products():
    mine, seller = console_seller()
    status = request.args.get("status") or ""
    if status not in {s.value for s in ProductStatus}:
        status = ""
    items = catalog.seller_products(db.session, seller, status or None)
    counts = {str(k): v for k, v in catalog.status_counts(db.session, seller).items()}
    return render_template("seller/products.html", sellers=mine, seller=seller, items=items,
                           status=status, counts=counts, tabs=TAB_ORDER,
                           labels=PRODUCT_STATUS_LABELS, submittable=SUBMITTABLE,
                           delistable=DELISTABLE)


@bp.route("/products/new", methods=["GET", "POST"], endpoint="product_new")
@bp.route("/products/<int:product_id>/edit", methods=["GET", "POST"], endpoint="product_edit")
@roles_required(Role.seller_staff)
def product_form(product_id: int | None = None):
    """One form for a new product (of the page's seller) and for editing one: saved as a draft
    or sent to review (action=submit) with the images chosen, then on to the product's page."""
    if product_id is None:
        product, (mine, seller) = None, console_seller()
    else:
        product = catalog.get_managed(db.session, current_user, product_id)
        mine, seller = None, product.seller
    form = ProductForm(data=None if request.method == "POST" or product is None
                       else _initial(product))
    _fill_product_choices(form)

    def save():
        # image files follow the transaction (catalog.images): gone again on rollback
        if product is None:
            saved = catalog.create_product(db.session, current_user, seller, _product_input(form))
        else:
            saved = product
            catalog.update_product(db.session, current_user, product, _product_input(form))
        uploads = _uploads()
        if uploads:
            catalog.add_images(db.session, current_user, saved, uploads)
        if _wants_submit():
            catalog.submit_for_review(db.session, current_user, saved)
        return saved

    done = submit(form, save, success=_("商品已提交审核") if _wants_submit()
                  else _("商品已保存") if product else _("商品草稿已保存"))
    if done.ok:
        return redirect(url_for("seller.product_edit", product_id=done.value.id))
    return render_template("seller/product_form.html", form=form, seller=seller, sellers=mine,
                           product=product,
                           images_dropped=done.error is not None and bool(_sent_images()),
                           max_images=current_app.config["MAX_IMAGES_PER_PRODUCT"],
                           submittable=SUBMITTABLE, delistable=DELISTABLE), form_status(form)


def _product_action(product_id: int, action, done_message: str):
    product = catalog.get_managed(db.session, current_user, product_id)
    commit_or_flash(lambda: action(product), done_message, reraise_access=True)
    return redirect(safe_next(request.form.get("next"),
                              url_for("seller.product_edit", product_id=product_id)))


@bp.route("/products/<int:product_id>/submit", methods=["POST"])
@roles_required(Role.seller_staff)
def product_submit(product_id: int):
    return _product_action(
        product_id, lambda p: catalog.submit_for_review(db.session, current_user, p),
        _("商品已提交审核"))


@bp.route("/products/<int:product_id>/delist", methods=["POST"])
@roles_required(Role.seller_staff)
def product_delist(product_id: int):
    return _product_action(
        product_id, lambda p: catalog.delist(db.session, current_user, p,
                                             posted_text("reason", _("下架原因"))[:200]),
        _("商品已下架"))


@bp.route("/products/<int:product_id>/images/<int:image_id>/remove", methods=["POST"])
@roles_required(Role.seller_staff)
def image_remove(product_id: int, image_id: int):
    return _product_action(
        product_id, lambda p: catalog.remove_image(db.session, current_user, p, image_id),
        _("图片已删除"))


# ---- cooperative members ----------------------------------------------------------------------

def _weight(text: str):
    """The typed weight as an int when it is one; anything else goes to the service as is, which
    answers with its own message."""
    text = (text or "").strip()
    return int(text) if text.isdigit() else text


@bp.route("/members", methods=["GET", "POST"])
@roles_required(Role.seller_staff)
def members():
    mine, seller = console_seller()
    form = MemberForm()
    weighted = seller.kind == SellerKind.cooperative  # an enterprise's weights are not used
    done = submit(form, lambda: sellers.set_member(
        db.session, current_user, seller, form.household_code.data or "",
        _weight(form.weight.data) if weighted else 1),
        success=lambda member: _("已保存成员户 %(name)s", name=member.household.masked_name))
    if done.ok:
        return redirect(url_for("seller.members", seller=seller.id))
    return render_template("seller/members.html", form=form, seller=seller, sellers=mine,
                           has_members=seller.kind in sellers.MEMBER_SELLERS,
                           is_cooperative=weighted), form_status(form)


@bp.route("/members/<int:member_id>/remove", methods=["POST"])
@roles_required(Role.seller_staff)
def member_remove(member_id: int):
    _mine, seller = console_seller()
    commit_or_flash(lambda: sellers.remove_member(db.session, current_user, seller, member_id),
                    _("已移除成员户"), reraise_access=True)
    return redirect(url_for("seller.members", seller=seller.id))


# ---- supply lots (收购批次) -------------------------------------------------------------------

LOTS_PER_PAGE = 30


def _household_choices(households) -> dict:
    """The seller's households for a select, grouped by village: code -> masked name and code."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for h in households:
        groups.setdefault(h.village.short_place, []).append(
            (h.code, f"{h.masked_name} · {h.code}"))
    return groups


def _lot_filter(products, households) -> lots.LotFilter:
    """?product=<id>&household=<code>&flagged=1, each kept only when it names one of the
    seller's own (anything else is no narrowing)."""
    product_id = id_value(request.args.get("product"))
    code = (request.args.get("household") or "").strip()
    household = next((h for h in households if h.code == code), None)
    return lots.LotFilter(
        product_id=product_id if any(p.id == product_id for p in products) else None,
        household_id=household.id if household else None,
        flagged=request.args.get("flagged") == "1")


@bp.route("/lots", methods=["GET", "POST"])
@roles_required(Role.seller_staff)
def supply_lots():
    mine, seller = console_seller()
    form = LotForm(data=None if request.method == "POST"
                   else {"purchased_on": today_china().isoformat()})
    products = catalog.seller_products(db.session, seller, None)
    form.product_id.choices = [("", _("请选择商品"))] + [
        (str(p.id), f"{p.name} {p.spec}".strip()) for p in products]
    takes_lots = seller.kind in lots.LOT_SELLERS
    households = sellers.member_households(db.session, seller) if takes_lots else []
    form.household_code.choices = {"": [("", _("请选择农户"))], **_household_choices(households)}
    if takes_lots:
        done = submit(form, lambda: lots.record_lot(db.session, current_user, seller, lots.LotInput(
            form.product_id.data, form.household_code.data or "", form.quantity.data,
            form.unit_price.data, form.purchased_on.data)))
        if done.ok:
            if done.value.below_guarantee:
                flash(_("收购批次已登记。收购价低于保底收购价，已提示本主体和所在地帮扶办。"),
                      "warning")
            else:
                flash(_("收购批次已登记"), "success")
            return redirect(url_for("seller.supply_lots", seller=seller.id))
    filters = _lot_filter(products, households) if takes_lots else lots.LotFilter()
    return render_template(
        "seller/lots.html", form=form, seller=seller, sellers=mine, takes_lots=takes_lots,
        products=products, households=households, filters=filters,
        pager=lots.seller_lots(db.session, seller, filters, page=requested_page(request.args),
                               per_page=LOTS_PER_PAGE) if takes_lots else None,
        audit_entries=audit.entries_within(db.session, current_user, AuditObject.seller, seller,
                                           object_types=[AuditObject.supply_lot])
        if takes_lots else []), form_status(form)


@bp.route("/lots/<int:lot_id>/remove", methods=["POST"])
@roles_required(Role.seller_staff)
def lot_remove(lot_id: int):
    _mine, seller = console_seller()
    commit_or_flash(lambda: lots.remove_lot(db.session, current_user, seller, lot_id),
                    _("已删除该收购批次"), reraise_access=True)
    return redirect(url_for("seller.supply_lots", seller=seller.id))


# ---- attribution rules: the households' share, lots, guaranteed price -------------------------

@bp.get("/rules")
@roles_required(Role.seller_staff)
def rules():
    mine, seller = console_seller()
    return render_template(
        "seller/rules.html", seller=seller, sellers=mine, share_form=SellerShareForm(),
        terms_form=ProductTermsForm(), products=catalog.seller_products(db.session, seller, None),
        remaining=lots.remaining_by_product(db.session, seller),
        takes_lots=seller.kind in lots.LOT_SELLERS,
        backed=lambda p: lots.is_lot_backed(seller, p.lot_backed))


@bp.post("/rules/share")
@roles_required(Role.seller_staff)
def seller_share():
    _mine, seller = console_seller()
    form = SellerShareForm()
    if form.validate_on_submit():
        commit_or_flash(lambda: lots.set_seller_share(db.session, current_user, seller,
                                                      form.share.data), _("已保存帮扶比例"),
                        reraise_access=True)
    else:
        flash(_("表单已过期，请重试"), "error")
    return redirect(url_for("seller.rules", seller=seller.id))


@bp.post("/rules/products/<int:product_id>")
@roles_required(Role.seller_staff)
def product_terms(product_id: int):
    product = catalog.get_managed(db.session, current_user, product_id)
    form = ProductTermsForm()
    if form.validate_on_submit():
        commit_or_flash(lambda: lots.set_product_terms(
            db.session, current_user, product, share=form.share.data,
            lot_backed=form.lot_backed.data, guaranteed_price=form.guaranteed_price.data),
            _("已保存商品的帮扶规则"), reraise_access=True)
    else:
        flash(_("表单已过期，请重试"), "error")
    return redirect(url_for("seller.rules", seller=product.seller_id))
