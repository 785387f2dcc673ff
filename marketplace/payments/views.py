"""POST /payments/stripe/webhook: Stripe's notifications, verified and applied once."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from marketplace.core.errorhandlers import json_error
from marketplace.extensions import db
from marketplace.payments.providers import providers

bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.post("/stripe/webhook")
def stripe_webhook():
    config = current_app.config
    provider = providers(config).get("stripe")
    secret = config.get("STRIPE_WEBHOOK_SECRET")
    if provider is None or not secret:
        return json_error(404, "not_found", "Stripe 未启用", {})
    from marketplace.payments.stripe_provider import BadSignature, verify
    from marketplace.payments.webhooks import handle_stripe_event
    try:
        event = verify(request.get_data(), request.headers.get("Stripe-Signature"), secret,
                       int(config.get("STRIPE_WEBHOOK_TOLERANCE", 300)))
    except BadSignature:
        return json_error(400, "bad_signature", "签名无效或已过期", {})
    outcome = handle_stripe_event(db.session, event, provider)
    db.session.commit()
    return jsonify({"received": True, "outcome": outcome})
