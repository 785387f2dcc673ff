"""The blueprint of micro-wishes (微心愿): wish cards, the village wall sheet, the QR link (issue 18: being written)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("wishes", __name__)
