"""POST /api/v1/auth/token: a login and password for a bearer token."""
from __future__ import annotations

from flask import current_app, jsonify, request

from marketplace.accounts import guard
from marketplace.accounts.services import authenticate, issue_token
from marketplace.api import bp
from marketplace.api.common import check_types, json_body
from marketplace.core.errorhandlers import json_error
from marketplace.core.errors import Unauthorized, ValidationFailed
from marketplace.core.i18n import translate_message
from marketplace.core.time import now_utc
from marketplace.extensions import db


@bp.post("/auth/token")
def token():
    data = json_body()
    check_types(data, {"login": "string", "password": "string"})
    missing = {k: ["必填"] for k in ("login", "password") if not data.get(k)}
    if missing:
        raise ValidationFailed("请提供 login 和 password", errors=missing)
    address = guard.client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                                   current_app.config["TRUSTED_PROXIES"])
    try:
        user = authenticate(db.session, data["login"], data["password"], address=address)
    except guard.TooManyAttempts as err:
        db.session.commit()  # the failure that reached the limit stays counted
        resp = json_error(err.status, err.code, translate_message(err.message), err.details)
        resp.headers["Retry-After"] = str(err.retry_after(now_utc()))
        return resp
    except Unauthorized:
        db.session.commit()  # the failure stays counted
        raise
    db.session.commit()
    return jsonify({
        "token": issue_token(user, current_app.config["SECRET_KEY"]),
        "token_type": "Bearer",
        "expires_in": current_app.config["API_TOKEN_MAX_AGE"],
        "user": {"id": user.id, "roles": user.roles},
    })
