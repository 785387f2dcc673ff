"""Payment providers behind one interface: the simulated provider (the default, offline, always
test mode) and Stripe (when its keys are configured; only stripe_provider.py imports stripe)."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Protocol

from marketplace.core.errors import DomainError


class ProviderUnavailable(DomainError):
    """The provider could not be reached (or refused): nothing was done there."""
    status = 502
    code = "provider_unavailable"


@dataclass
class PaymentStart:
    reference: str  # the provider's id of this attempt (Stripe: the Checkout Session)
    redirect_url: str  # where the buyer goes to pay


class Provider(Protocol):
    name: str
    test_mode: bool

    def start(self, order, *, success_url: str, cancel_url: str) -> PaymentStart: ...

    def refund(self, payment_reference: str, amount_fen: int, *, idempotency_key: str) -> str:
        """Pay money back; returns the provider's refund id."""


class SimulatedProvider:
    name = "simulated"
    test_mode = True

    def start(self, order, *, success_url: str, cancel_url: str) -> PaymentStart:
        from flask import url_for
        return PaymentStart(f"sim-{order.id}", url_for("orders.order_pay", order_id=order.id))

    def refund(self, payment_reference: str, amount_fen: int, *, idempotency_key: str) -> str:
        return f"sim-refund-{idempotency_key}"


class OfflineProvider:
    """Money a seller's staff took at a fair or a market, in cash or by transfer (an offline
    sale: payments.offline records it with the sale). Nothing is started online; money back is
    handed back by the seller and recorded under a reference of its own."""
    test_mode = False

    def __init__(self, name: str):
        self.name = name

    def start(self, order, *, success_url: str, cancel_url: str) -> PaymentStart:
        raise ProviderUnavailable("线下收款不能在线支付")

    def refund(self, payment_reference: str, amount_fen: int, *, idempotency_key: str) -> str:
        return f"offline-{idempotency_key}"


# the offline providers by name (orders.offline.PROVIDERS names them for each payment method);
# never among `providers(config)`: nobody pays online through them
OFFLINE: dict[str, Provider] = {name: OfflineProvider(name)
                                for name in ("offline_cash", "offline_transfer")}


def providers(config) -> dict[str, Provider]:
    """The providers this configuration enables, by name."""
    out: dict[str, Provider] = {"simulated": SimulatedProvider()}
    if config.get("STRIPE_SECRET_KEY"):
        out["stripe"] = _stripe(config["STRIPE_SECRET_KEY"], config.get("STRIPE_API_BASE") or None)
    return out


@functools.lru_cache(maxsize=4)
def _stripe(secret_key: str, api_base: str | None) -> Provider:
    """One Stripe client (and its connection pool) per key and address, not one per request."""
    from marketplace.payments.stripe_provider import StripeProvider
    return StripeProvider(secret_key, api_base=api_base)
