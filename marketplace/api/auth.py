"""POST /api/v1/auth/token: a login and password for a bearer token."""
from __future__ import annotations

from flask import current_app, jsonify

from marketplace.accounts.services import authenticate, issue_token
from marketplace.api import bp
from marketplace.api.common import check_types, json_body
from marketplace.core.errors import ValidationFailed
from marketplace.extensions import db


@bp.post("/auth/token")
def token():
    data = json_body()
    check_types(data, {"login": "string", "password": "string"})
    missing = {k: ["必填"] for k in ("login", "password") if not data.get(k)}
    if missing:
        raise ValidationFailed("请提供 login 和 password", errors=missing)
    user = authenticate(db.session, data["login"], data["password"])
    db.session.commit()
    return jsonify({
        "token": issue_token(user, current_app.config["SECRET_KEY"]),
        "token_type": "Bearer",
        "expires_in": current_app.config["API_TOKEN_MAX_AGE"],
        "user": {"id": user.id, "roles": user.roles},
    })
