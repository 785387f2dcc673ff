"""The blueprint of fairs and live-sale events: pages, the organiser's console, the report (issue 18: being written)."""
from __future__ import annotations

from flask import Blueprint

bp = Blueprint("events", __name__)
