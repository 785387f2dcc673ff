"""The blueprint of needs (帮扶需求): the wall, posting, review, claims, receipts, flags (issue 18: being written)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("needs", __name__)
