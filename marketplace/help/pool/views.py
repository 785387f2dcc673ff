"""The blueprint of the donation pool: public totals and allocations, donations, receipts, allocation by offices, pledges (issue 18: being written)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("pool", __name__)
