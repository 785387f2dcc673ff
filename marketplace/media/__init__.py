"""Serving uploaded pictures from the instance folder (an entry point: views only)."""
