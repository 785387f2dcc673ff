"""Group purchase pages: campaigns, joining, the fill bar (filled by the campaigns work)."""
from __future__ import annotations

from flask import Blueprint

from marketplace.units import rules  # noqa: F401

bp = Blueprint("campaigns", __name__)
