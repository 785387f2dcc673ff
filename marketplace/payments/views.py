"""POST /payments/stripe/webhook: Stripe's notifications, verified and applied once.

The answer is JSON. 200 once the event is recorded and any money it brought that its order
could not take is paid back; 503 while such a refund is still due (recorded and committed, the
provider unreachable) or the order changed under it, so that Stripe delivers the event again.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from flask_babel import gettext as _

from marketplace.core.errorhandlers import json_error
from marketplace.core.errors import DomainError
from marketplace.core.i18n import translate_message
from marketplace.extensions import db
from marketplace.payments.providers import providers

bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.post("/stripe/webhook")
def stripe_webhook():
    config = current_app.config
    enabled = providers(config)
    secret = config.get("STRIPE_WEBHOOK_SECRET")
    if "stripe" not in enabled or not secret:
        return json_error(404, "not_found", _("Stripe 未启用"), {})
    from marketplace.payments.payback import Settled, settle
    from marketplace.payments.stripe_provider import BadSignature, verify
    from marketplace.payments.webhooks import handle_stripe_event
    try:
        event = verify(request.get_data(), request.headers.get("Stripe-Signature"), secret,
                       int(config.get("STRIPE_WEBHOOK_TOLERANCE", 300)))
    except BadSignature:
        return json_error(400, "bad_signature", _("签名无效或已过期"), {})
    try:
        result = handle_stripe_event(db.session, event)
        db.session.commit()
    except DomainError as err:  # the order changed meanwhile: nothing kept, deliver again
        db.session.rollback()
        current_app.logger.warning("stripe event %s: %s", event.get("id"), err.message)
        return json_error(503, "try_again", translate_message(err.message), {})
    body = {"received": True, "outcome": result.outcome}
    if result.refund_due is not None:
        settled = settle(db.session, result.refund_due, enabled, commit=db.session.commit)
        body["refund"] = settled.value
        if settled == Settled.failed:
            return json_error(503, "provider_unavailable", _("支付服务暂时无法退款，请稍后再试"),
                              body)
    return jsonify(body)
