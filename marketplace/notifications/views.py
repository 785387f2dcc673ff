"""The notifications page (/notifications) and the unread count every page shows. Each
notification is shown in the reader's language (its stored key and values translated; rows
without a key show their Chinese text) with its link built from its endpoint (rows without one
keep their typed url; an endpoint that no longer exists gives no link)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import Blueprint, render_template, url_for
from flask_login import current_user
from werkzeug.routing import BuildError

from marketplace.core.i18n import translate_message
from marketplace.core.policy import login_required
from marketplace.extensions import db
from marketplace.notifications import services
from marketplace.notifications.messages import unpack, unpack_args
from marketplace.notifications.models import Notification

bp = Blueprint("notifications", __name__)


@dataclass(frozen=True)
class Shown:
    """A notification as the page shows it."""

    id: int
    text: str
    link: str | None
    created_at: datetime
    unread: bool


def shown(n: Notification) -> Shown:
    message = unpack(n.message_key, n.message_values)
    return Shown(n.id, translate_message(message) if message is not None else n.text, link(n),
                 n.created_at, n.read_at is None)


def link(n: Notification) -> str | None:
    if not n.endpoint:
        return n.url or None
    try:
        return url_for(n.endpoint, **unpack_args(n.endpoint_args))
    except (BuildError, TypeError, ValueError):  # an endpoint gone or its arguments changed
        return None


@bp.get("/notifications")
@login_required
def index():
    items = [shown(n) for n in services.latest(db.session, current_user.id)]
    services.mark_read(db.session, current_user.id)
    db.session.commit()
    return render_template("notifications/index.html", items=items)


@bp.app_context_processor
def _unread_notifications():
    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread(db.session, current_user.id)
    return {"unread_notifications": count}
