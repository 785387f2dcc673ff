"""Fairs and live-sale events (blueprint `events`): the public list (/events: now, upcoming,
past) and an event's page (/events/<id>: opening a published event under way remembers it, so
the buyer's checkouts carry it until it ends); the organisers' console (/console/events:
create, edit, publish, cancel with a reason and a confirmation) and the event's report with its
xlsx export. The work is help.events.services and help.events.report."""
from __future__ import annotations

from flask import Blueprint, Response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from marketplace.accounts.models import Role
from marketplace.core import policy
from marketplace.core.errors import Forbidden
from marketplace.core.forms import commit_or_flash, form_status, submit
from marketplace.core.pager import requested_page
from marketplace.core.policy import roles_required
from marketplace.core.time import CHINA, as_aware, now_utc
from marketplace.extensions import db
from marketplace.help.events import report as event_report
from marketplace.help.events import services, tags
from marketplace.help.events.forms import CancelForm, EventForm
from marketplace.help.events.models import (
    EVENT_KIND_LABELS,
    EVENT_STATUS_LABELS,
    Event,
    EventStatus,
)
from marketplace.regions.models import Region
from marketplace.reports.exports import content_disposition
from marketplace.units.exports import XLSX_MIMETYPE

bp = Blueprint("events", __name__)

PHASES = [services.Phase.now, services.Phase.upcoming, services.Phase.past]


def china_time(value) -> str:
    return f"{as_aware(value).astimezone(CHINA):%Y-%m-%d %H:%M}" if value else ""


@bp.app_context_processor
def _helpers():
    return {"event_kind_labels": EVENT_KIND_LABELS, "event_status_labels": EVENT_STATUS_LABELS,
            "event_phase_labels": services.PHASE_LABELS, "china_time": china_time}


# ---- public pages ------------------------------------------------------------------------------

@bp.get("/events")
def index():
    phase = request.args.get("phase", "")
    phase = phase if phase in set(services.Phase) else ""
    kind = request.args.get("kind", "")
    now = now_utc()
    page = services.public_events(db.session, now, phase=phase, kind=kind,
                                  page=requested_page(request.args))
    return render_template("help/events/index.html", page=page, phase=phase, kind=kind,
                           phases=PHASES, now=now, phase_of=services.phase_of)


@bp.get("/events/<int:event_id>")
def event_page(event_id: int):
    event = services.public_event(db.session, event_id)
    now = now_utc()
    tags.remember(session, event, now)
    return render_template("help/events/event.html", event=event,
                           phase=services.phase_of(event, now),
                           products=services.featured_products(db.session, event),
                           manages=services.can_manage(db.session, current_user, event))


# ---- the organisers' console -------------------------------------------------------------------

def _organiser() -> None:
    if not services.may_organise(db.session, current_user):
        raise Forbidden("只有帮扶办、已认证单位的管理员或平台管理员可以举办活动")


def _scopes() -> list[tuple[str, str]]:
    """The organiser choices: the office's regions, then the units the user administers."""
    out = []
    if policy.is_admin(current_user):  # the provinces (an office's own event names its region)
        regions = db.session.scalars(select(Region).where(Region.depth == 0)
                                     .order_by(Region.path)).all()
    else:
        regions = [g.region for g in current_user.grants
                   if g.role == Role.office and g.region is not None]
    out += [(f"region:{r.code}", r.name) for r in regions]
    out += [(f"unit:{u.id}", u.name)
            for u in services.organising_units(db.session, current_user)]
    return out


def _input(form: EventForm) -> services.EventInput:
    kind, _sep, value = (form.organiser_scope.data or "").partition(":")
    return services.EventInput(
        kind=form.kind.data or "", title=form.title.data or "",
        starts_at=form.starts_at.data or "", ends_at=form.ends_at.data or "",
        description=form.description.data or "", place=form.place.data or "",
        online=bool(form.online.data), stream_url=form.stream_url.data or "",
        organiser=form.organiser.data or "",
        region_code=value if kind == "region" else "",
        unit_id=value if kind == "unit" else None,
        seller_ids=form.seller_ids.data or "", product_ids=form.product_ids.data or "")


def _local(value) -> str:
    return f"{as_aware(value).astimezone(CHINA):%Y-%m-%dT%H:%M}"


@bp.get("/console/events")
@roles_required(Role.office, Role.unit_admin)
def console():
    _organiser()
    page = services.managed_events(db.session, current_user, requested_page(request.args))
    return render_template("help/events/console.html", page=page, now=now_utc(),
                           phase_of=services.phase_of, cancel_form=CancelForm())


@bp.route("/console/events/new", methods=["GET", "POST"])
@roles_required(Role.office, Role.unit_admin)
def new():
    _organiser()
    form = EventForm()
    form.organiser_scope.choices = _scopes()
    done = submit(form, lambda: services.create(db.session, current_user, _input(form)),
                  success=_("活动已保存为草稿，确认无误后请发布"))
    if done.ok:
        return redirect(url_for("events.console"))
    return render_template("help/events/form.html", form=form, event=None), form_status(form)


@bp.route("/console/events/<int:event_id>/edit", methods=["GET", "POST"])
@roles_required(Role.office, Role.unit_admin)
def edit(event_id: int):
    event = services.managed(db.session, current_user, event_id)
    form = EventForm()
    form.organiser_scope.choices = _scopes()
    if request.method == "GET":
        form.kind.data, form.title.data = event.kind.value, event.title
        form.organiser_scope.data = (f"unit:{event.unit_id}" if event.unit_id
                                     else f"region:{event.region.code}")
        form.organiser.data, form.place.data = event.organiser, event.place
        form.starts_at.data, form.ends_at.data = _local(event.starts_at), _local(event.ends_at)
        form.online.data, form.stream_url.data = event.online, event.stream_url
        form.description.data = event.description
        form.seller_ids.data = ", ".join(str(s.seller_id) for s in event.sellers)
        form.product_ids.data = ", ".join(str(p.product_id) for p in event.products)
    done = submit(form, lambda: services.update(db.session, current_user, event, _input(form)),
                  success=_("活动已修改"))
    if done.ok:
        return redirect(url_for("events.console"))
    return render_template("help/events/form.html", form=form, event=event), form_status(form)


@bp.post("/console/events/<int:event_id>/publish")
@roles_required(Role.office, Role.unit_admin)
def publish(event_id: int):
    event = services.managed(db.session, current_user, event_id)
    commit_or_flash(lambda: services.publish(db.session, current_user, event),
                    _("活动已发布"))
    return redirect(url_for("events.console"))


@bp.post("/console/events/<int:event_id>/cancel")
@roles_required(Role.office, Role.unit_admin)
def cancel(event_id: int):
    event = services.managed(db.session, current_user, event_id)
    form = CancelForm()
    commit_or_flash(lambda: services.cancel(db.session, current_user, event,
                                            form.reason.data or ""), _("活动已取消"))
    return redirect(url_for("events.console"))


@bp.get("/console/events/<int:event_id>/report")
@roles_required(Role.office, Role.unit_admin)
def report(event_id: int):
    event: Event = services.managed(db.session, current_user, event_id)
    built = event_report.build(db.session, event)
    if request.args.get("format") == "xlsx":
        return Response(event_report.workbook(built), mimetype=XLSX_MIMETYPE, headers={
            "Content-Disposition": content_disposition(event_report.filename(event),
                                                       f"event-{event.id}-report.xlsx")})
    return render_template("help/events/report.html", event=event, report=built,
                           cancelled=event.status == EventStatus.cancelled)
