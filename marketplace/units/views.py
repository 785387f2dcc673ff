"""Unit pages: applying, members and invites, annual filings, the office's units (filled by
the units work)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("units", __name__)
