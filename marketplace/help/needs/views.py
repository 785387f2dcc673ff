"""The blueprint of needs (帮扶需求): the public wall, a need's page, posting and editing, an
office's review queue and flags, claims (claim, give up, delivery) and the liaison's receipt.

Thin: form > service > commit > redirect. Reads first lapse held claims and expire needs
(`claims.tidy`), so the wall is right without a scheduler."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.core import policy
from marketplace.core.errors import NotFound
from marketplace.core.forms import commit_or_flash, form_status, posted_text, submit
from marketplace.core.pager import Page, requested_page
from marketplace.core.policy import login_required, roles_required
from marketplace.extensions import db
from marketplace.help.needs import claims, flags, services
from marketplace.help.needs.forms import (
    CATEGORY_CHOICES,
    ClaimForm,
    ConfirmForm,
    DeliveryForm,
    FlagForm,
    NeedForm,
    ReviewForm,
)
from marketplace.help.needs.history import remaining_fen
from marketplace.help.needs.models import (
    CLAIM_STATUS_LABELS,
    FLAG_REASON_LABELS,
    NEED_KIND_LABELS,
    NEED_STATUS_LABELS,
    Claim,
    ClaimStatus,
    NeedFlag,
    NeedStatus,
)
from marketplace.regions.services import find_by_code

bp = Blueprint("needs", __name__)

PER_PAGE = 24


def _tidy() -> None:
    """Lapse held claims past their time and expire needs past theirs, then go on reading."""
    if claims.tidy(db.session) != (0, 0):
        db.session.commit()


def _photo(field) -> bytes | None:
    data = field.data
    if data is None or not getattr(data, "filename", ""):
        return None
    return data.read() or None


@bp.app_context_processor
def _helpers():
    def needs_of(households):
        """The needs of these households, by household id (the liaison's page)."""
        return services.household_needs(db.session, [h.id for h in households])
    return {"needs_of": needs_of, "need_status_labels": NEED_STATUS_LABELS,
            "step_labels": services.STEP_LABELS}


# ---- the wall ---------------------------------------------------------------------------------

@bp.get("/needs")
def wall():
    _tidy()
    args = request.args
    region = None
    code = (args.get("region") or "").strip()
    if code:
        region = find_by_code(db.session, code) if code.isdigit() and len(code) <= 12 else None
        if region is None:
            raise NotFound(_("该地区不存在"))
    query = services.WallQuery(region=region, category=args.get("category", ""),
                               kind=args.get("kind", ""), q=(args.get("q") or "")[:200],
                               status=args.get("status", ""))
    page = requested_page(args)
    rows, total = services.wall(db.session, query, page=page, per_page=PER_PAGE)
    return render_template("help/needs/wall.html", needs=rows, query=query,
                           pager=Page(rows, total, page, PER_PAGE),
                           regions=services.wall_regions(db.session),
                           categories=CATEGORY_CHOICES, kinds=NEED_KIND_LABELS,
                           remaining=remaining_fen)


@bp.get("/needs/<int:need_id>")
def detail(need_id: int):
    _tidy()
    user = current_user if current_user.is_authenticated else None
    need = services.visible_need(db.session, user, need_id)
    manages = user is not None and services.may_post_for(db.session, user, need.household)
    reviews = user is not None and services.may_review(db.session, user, need)
    confirms = user is not None and (policy.is_admin(user)
                                     or need.household.liaison_id == user.id)
    mine = [c for c in need.claims if user is not None and c.donor_id == user.id]
    return render_template(
        "help/needs/detail.html", need=need, manages=manages, reviews=reviews,
        confirms=confirms, mine=mine,
        steps=services.steps(db.session, need, public=not (manages or reviews)),
        remaining=remaining_fen(need), claim_form=ClaimForm(), delivery_form=DeliveryForm(),
        confirm_form=ConfirmForm(), flag_form=FlagForm(), review_form=ReviewForm(),
        claim_labels=CLAIM_STATUS_LABELS, open_flags=flags.count_open(db.session, need)
        if reviews else 0)


# ---- posting and editing ----------------------------------------------------------------------

@bp.route("/needs/new", methods=["GET", "POST"])
@login_required
def new():
    form = NeedForm()
    if request.method == "GET":
        form.household_code.data = request.args.get("household", "")
        form.kind.data = request.args.get("kind", "need")

    def work():
        household = services.household_by_code(db.session, form.household_code.data)
        return services.post(db.session, current_user, household, form.to_input(),
                             photo=_photo(form.photo))

    done = submit(form, work, success=_("需求已提交，等待帮扶办审核"))
    if done.ok:
        return redirect(url_for("needs.detail", need_id=done.value.id))
    return render_template("help/needs/form.html", form=form, need=None), form_status(form)


def _managed(need_id: int):
    need = services.visible_need(db.session, current_user, need_id)
    return services.check_manage(db.session, current_user, need)


@bp.route("/needs/<int:need_id>/edit", methods=["GET", "POST"])
@login_required
def edit(need_id: int):
    need = _managed(need_id)
    form = NeedForm()
    if request.method == "GET":
        form.fill(need)
    form.household_code.data = need.household.code

    def work():
        services.edit(db.session, current_user, need, form.to_input(), photo=_photo(form.photo))
        if request.form.get("action") == "resubmit" and need.status == NeedStatus.sent_back:
            services.resubmit(db.session, current_user, need)
        return need

    done = submit(form, work, success=_("已保存"))
    if done.ok:
        return redirect(url_for("needs.detail", need_id=need.id))
    return render_template("help/needs/form.html", form=form, need=need), form_status(form)


@bp.post("/needs/<int:need_id>/resubmit")
@login_required
def resubmit(need_id: int):
    need = _managed(need_id)
    commit_or_flash(lambda: services.resubmit(db.session, current_user, need),
                    _("已重新提交，等待审核"))
    return redirect(url_for("needs.detail", need_id=need_id))


@bp.post("/needs/<int:need_id>/withdraw")
@login_required
def withdraw(need_id: int):
    need = _managed(need_id)
    commit_or_flash(lambda: services.withdraw(db.session, current_user, need), _("需求已撤回"))
    return redirect(url_for("needs.detail", need_id=need_id))


# ---- the office's review ----------------------------------------------------------------------

@bp.get("/needs/review")
@roles_required(Role.office)
def review_queue():
    _tidy()
    page = requested_page(request.args)
    rows, total = services.review_queue(db.session, current_user, page=page, per_page=30)
    return render_template("help/needs/review.html", needs=rows,
                           pager=Page(rows, total, page, 30), review_form=ReviewForm(),
                           flags=flags.open_flags(db.session, current_user),
                           flag_labels=FLAG_REASON_LABELS)


@bp.post("/needs/<int:need_id>/review")
@login_required
def review(need_id: int):
    need = services.visible_need(db.session, current_user, need_id)
    services.check_reviewer(db.session, current_user, need)
    form = ReviewForm()
    decision = request.form.get("decision", "")
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
    else:
        commit_or_flash(lambda: services.review(db.session, current_user, need, decision,
                                                form.reason.data or ""),
                        _("已通过，需求已上墙") if decision == "approve" else _("已退回"))
    return redirect(request.form.get("back") == "queue" and url_for("needs.review_queue")
                    or url_for("needs.detail", need_id=need_id))


@bp.post("/needs/flags/<int:flag_id>/decide")
@roles_required(Role.office)
def decide_flag(flag_id: int):
    row = db.session.get(NeedFlag, flag_id)
    uphold = request.form.get("decision") == "uphold"
    commit_or_flash(lambda: flags.decide(db.session, current_user, row, uphold,
                                         posted_text("note", _("说明"))),
                    _("举报成立，需求已下架") if uphold else _("已驳回举报"), reraise_access=True)
    return redirect(url_for("needs.review_queue"))


@bp.post("/needs/<int:need_id>/flag")
@login_required
def flag(need_id: int):
    need = services.visible_need(db.session, current_user, need_id)
    form = FlagForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
    else:
        commit_or_flash(lambda: flags.flag(db.session, current_user, need, form.reason.data,
                                           form.note.data or ""),
                        _("感谢举报，帮扶办会尽快处理"))
    return redirect(url_for("needs.detail", need_id=need_id))


# ---- claims -----------------------------------------------------------------------------------

@bp.post("/needs/<int:need_id>/claim")
@login_required
def claim(need_id: int):
    need = services.visible_need(db.session, current_user, need_id)
    form = ClaimForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
    else:
        commit_or_flash(lambda: claims.claim(db.session, current_user, need, form.amount_fen()),
                        _("认领成功：请在期限内完成交付并登记"))
    return redirect(url_for("needs.detail", need_id=need_id))


def _claim_row(claim_id: int) -> Claim:
    row = db.session.get(Claim, claim_id)
    if row is None:
        raise NotFound(_("未找到该认领"))
    return row


@bp.post("/claims/<int:claim_id>/give-up")
@login_required
def give_up(claim_id: int):
    row = _claim_row(claim_id)
    commit_or_flash(lambda: claims.give_up(db.session, current_user, row), _("已放弃认领"))
    return redirect(url_for("needs.detail", need_id=row.need_id))


@bp.post("/claims/<int:claim_id>/delivered")
@login_required
def delivered(claim_id: int):
    row = _claim_row(claim_id)
    form = DeliveryForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
    else:
        commit_or_flash(lambda: claims.record_delivery(db.session, current_user, row,
                                                       form.kind.data, form.note.data or ""),
                        _("已登记交付，等待联络人确认收到"))
    return redirect(url_for("needs.detail", need_id=row.need_id))


@bp.post("/claims/<int:claim_id>/confirm")
@login_required
def confirm(claim_id: int):
    row = claims.check_confirm(db.session, current_user, _claim_row(claim_id))
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("表单已过期，请重试"), "error")
    else:
        commit_or_flash(lambda: claims.confirm(db.session, current_user, row,
                                               form.note.data or "", photo=_photo(form.photo)),
                        _("已确认收到"))
    return redirect(url_for("needs.detail", need_id=row.need_id))


@bp.get("/needs/mine")
@login_required
def mine():
    _tidy()
    return render_template(
        "help/needs/mine.html", claims=claims.donor_claims(db.session, current_user),
        posted=services.posted_by(db.session, current_user),
        to_confirm=claims.awaiting_confirmation(db.session, current_user),
        claim_labels=CLAIM_STATUS_LABELS, held=ClaimStatus.held)
