"""The notifications page (/notifications) and the unread count every page shows."""
from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from marketplace.core.policy import login_required
from marketplace.extensions import db
from marketplace.notifications import services

bp = Blueprint("notifications", __name__)


@bp.get("/notifications")
@login_required
def index():
    items = services.latest(db.session, current_user.id)
    unread_ids = {n.id for n in items if n.read_at is None}
    services.mark_read(db.session, current_user.id)
    db.session.commit()
    return render_template("notifications/index.html", items=items, unread_ids=unread_ids)


@bp.app_context_processor
def _unread_notifications():
    def count() -> int:
        if not current_user.is_authenticated:
            return 0
        return services.unread(db.session, current_user.id)
    return {"unread_notifications": count}
