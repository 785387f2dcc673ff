"""The marketplace: a Flask application for consumption-based poverty alleviation (消费帮扶)."""
from __future__ import annotations

from marketplace.app import create_app

__all__ = ["create_app"]
