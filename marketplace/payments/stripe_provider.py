"""Stripe through the official library: Checkout Sessions to pay, Refunds to pay back, and
webhook events verified with the signing secret and a timestamp tolerance."""
from __future__ import annotations

import stripe

from marketplace.payments.providers import PaymentStart


class StripeProvider:
    name = "stripe"

    def __init__(self, secret_key: str, *, api_base: str | None = None):
        self.test_mode = secret_key.startswith("sk_test_")
        addresses = {"api": api_base} if api_base else None
        self.client = stripe.StripeClient(secret_key, base_addresses=addresses,
                                          max_network_retries=2)

    def start(self, order, *, success_url: str, cancel_url: str) -> PaymentStart:
        session = self.client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "client_reference_id": order.number,
                "metadata": {"order_id": str(order.id), "order_number": order.number},
                "line_items": [{"quantity": 1, "price_data": {
                    "currency": order.currency.lower(), "unit_amount": order.total_fen,
                    "product_data": {"name": f"{order.seller.name} {order.number}"}}}],
                "payment_intent_data": {"metadata": {"order_id": str(order.id)}},
                "success_url": success_url, "cancel_url": cancel_url,
            },
            options={"idempotency_key": f"checkout-{order.id}-{order.total_fen}"})
        return PaymentStart(session.id, session.url)

    def refund(self, payment_reference: str, amount_fen: int, *, idempotency_key: str) -> str:
        refund = self.client.v1.refunds.create(
            params={"payment_intent": payment_reference, "amount": amount_fen},
            options={"idempotency_key": idempotency_key})
        return refund.id


class BadSignature(ValueError):
    """The webhook payload is not signed by our endpoint secret, or too old."""


def verify(payload: bytes, signature: str | None, secret: str, tolerance: int) -> dict:
    """The event of a webhook request, or BadSignature."""
    try:
        event = stripe.Webhook.construct_event(payload, signature, secret, tolerance=tolerance)
    except (stripe.SignatureVerificationError, ValueError, RecursionError) as exc:
        raise BadSignature(str(exc)) from exc
    return event.to_dict()
