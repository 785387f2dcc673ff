"""Seller console for offline sales (/seller/offline-sales), its own blueprint `offline_sales`:
the recent offline sales, a page to record one sale with many lines (blank rows, and a button
for more rows, no JavaScript needed), the CSV or xlsx import (every bad line by its number, or
how many sales and lines and what total it recorded) and the files to fill in. The work is
payments.offline's; corrections are the seller's usual refunds on /seller/orders."""
from __future__ import annotations

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from marketplace.accounts.models import Role
from marketplace.catalog import services as catalog
from marketplace.core.errors import ValidationFailed
from marketplace.core.forms import form_status, submit
from marketplace.core.i18n import translate_message
from marketplace.core.money import format_fen
from marketplace.core.pager import requested_page
from marketplace.core.policy import roles_required
from marketplace.core.time import CHINA, as_aware, today_china
from marketplace.extensions import db
from marketplace.help.events import tags as event_tags
from marketplace.orders import offline, offline_import
from marketplace.orders.offline_forms import OfflineImportForm, OfflineSaleForm
from marketplace.payments import offline as recording
from marketplace.sellers.console import console_seller

bp = Blueprint("offline_sales", __name__, url_prefix="/seller/offline-sales")

BLANK_ROWS = 8  # rows on a new page, and added by 再加几行
MAX_ROWS = offline.MAX_LINES
LINE_FIELDS = ("product_id", "quantity", "unit_price")  # a line row's posted fields
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@bp.get("")
@roles_required(Role.seller_staff)
def index():
    mine, seller = console_seller()
    page = offline.recent_sales(db.session, seller.id, requested_page(request.args))
    return render_template("seller/offline_sales.html", seller=seller, sellers=mine, page=page,
                           methods=offline.METHOD_OF_PROVIDER,
                           labels=offline.PAYMENT_METHOD_LABELS)


# ---- one sale, many lines ----------------------------------------------------------------------

def _posted_rows() -> list[dict]:
    """The line rows as posted (product, quantity, unit price in yuan), blank ones kept."""
    columns = [request.form.getlist(name)[:MAX_ROWS] for name in LINE_FIELDS]
    return [{name: (column[i] if i < len(column) else "")[:20]
             for name, column in zip(LINE_FIELDS, columns, strict=True)}
            for i in range(max(len(c) for c in columns))]


@bp.route("/new", methods=["GET", "POST"])
@roles_required(Role.seller_staff)
def record():
    mine, seller = console_seller()
    form = OfflineSaleForm(data=None if request.method == "POST"
                           else {"sold_on": today_china().isoformat()})
    form.event_id.choices = [("", _("不属于帮扶活动"))] + [
        (str(e.id), f"{e.title}（{as_aware(e.starts_at).astimezone(CHINA):%Y-%m-%d}）")
        for e in event_tags.recordable_events(db.session, today_china())]
    if request.method == "GET" and request.args.get("event"):
        form.event_id.data = request.args["event"][:20]
    rows = _posted_rows() if request.method == "POST" else []
    row_errors: dict[int, list[str]] = {}
    if request.method == "POST" and request.form.get("more"):
        rows += [{}] * BLANK_ROWS  # more rows for the lines: nothing is recorded yet
    elif request.method == "POST":
        filled = [(i, row) for i, row in enumerate(rows) if any(v.strip() for v in row.values())]
        done = submit(form, lambda: recording.record(
            db.session, current_user, seller, offline.OfflineSaleInput(
                sold_on=form.sold_on.data, place=form.place.data or "",
                payment_method=form.payment_method.data or "",
                receipt_no=form.receipt_no.data or "",
                event_id=event_tags.offline_event(db.session, form.event_id.data or None),
                lines=[offline.OfflineLine(row["product_id"], row["quantity"],
                                           row["unit_price"]) for _, row in filled])))
        if done.ok:
            order = done.value.order
            if done.value.created:
                flash(_("已录入线下销售：订单 %(n)s，合计 %(total)s", n=order.number,
                        total=format_fen(order.total_fen)), "success")
            else:
                flash(_("该收据号已录入过同样的销售：订单 %(n)s", n=order.number), "warning")
            return redirect(url_for("offline_sales.index", seller=seller.id))
        if isinstance(done.error, ValidationFailed):  # each line's problems under its row
            for line in done.error.details.get("lines", []):
                row_errors[filled[line["line"] - 1][0]] = [
                    translate_message(m) for m in line["messages"]]
    rows = (rows + [{}] * max(0, BLANK_ROWS - len(rows)))[:MAX_ROWS]
    products = [p for p in catalog.seller_products(db.session, seller, None)
                if p.status in offline.SELLABLE]
    return render_template(
        "seller/offline_record.html", seller=seller, sellers=mine, form=form, rows=rows,
        row_errors=row_errors, products=products, can_add=len(rows) < MAX_ROWS,
        today=today_china().isoformat()), form_status(form)


# ---- the import --------------------------------------------------------------------------------

@bp.route("/import", methods=["GET", "POST"])
@roles_required(Role.seller_staff)
def import_file():
    mine, seller = console_seller()
    form = OfflineImportForm()

    def work():
        upload = form.file.data
        rows = offline_import.read_file(getattr(upload, "filename", "") or "",
                                        upload.read() if upload else b"")
        return recording.import_offline_sales(db.session, current_user, seller, rows)

    done = submit(form, work, success=lambda sales: _(
        "已导入 %(sales)s 笔销售，共 %(lines)s 行商品，合计 %(total)s", sales=len(sales),
        lines=sum(len(o.lines) for o in sales), total=format_fen(sum(o.total_fen for o in sales)))
        + (_("（其中 %(n)s 笔此前已录入，未重复录入）", n=sales.repeated) if sales.repeated else ""))
    if done.ok:
        return redirect(url_for("offline_sales.index", seller=seller.id))
    problems = (done.error.problems if isinstance(done.error, offline_import.ImportFailed)
                else [])
    return render_template(
        "seller/offline_import.html", seller=seller, sellers=mine, form=form,
        problems=[(p.line, translate_message(p.message)) for p in problems],
        headers=offline_import.TEMPLATE_HEADERS), form_status(form)


@bp.get("/template.<any(csv, xlsx):kind>")
@roles_required(Role.seller_staff)
def template(kind: str):
    console_seller()  # a seller's staff (or an admin)
    if kind == "csv":
        data, mimetype = offline_import.template_csv(), "text/csv; charset=utf-8"
    else:
        data, mimetype = offline_import.template_xlsx(), XLSX
    return Response(data, mimetype=mimetype, headers={
        "Content-Disposition": f"attachment; filename=offline-sales.{kind}"})
