"""Filing pages: a unit's annual filings, the office's review and its units (filled by the
filings work)."""
from __future__ import annotations

from flask import Blueprint

from marketplace.units import rules  # noqa: F401

bp = Blueprint("filings", __name__)
