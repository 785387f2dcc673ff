"""Security headers on every response, and compressed responses.

The Content-Security-Policy allows scripts, styles, fonts and pictures from this site only: no
inline script or event handler runs (static/js/site.js gives forms their confirmations), no
other site may frame a page (`frame-ancestors 'none'` and X-Frame-Options: DENY, so the
one-click POST pages cannot be clickjacked), no plugin loads, and `<base>` cannot move links
elsewhere. HSTS is sent when the cookies are secure (MARKETPLACE_SECURE_COOKIES: the site is
served over HTTPS only). Compression (gzip or brotli) is Flask-Compress's work.
"""
from __future__ import annotations

from flask import Flask, Response
from flask_compress import Compress

CONTENT_SECURITY_POLICY = "; ".join((
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "frame-ancestors 'none'",
))
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=()"
HSTS = "max-age=31536000; includeSubDomains"

compress = Compress()


def security_headers(secure: bool) -> dict[str, str]:
    headers = {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Frame-Options": "DENY",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Opener-Policy": "same-origin",
    }
    if secure:
        headers["Strict-Transport-Security"] = HSTS
    return headers


def register(app: Flask) -> None:
    headers = security_headers(bool(app.config.get("SECURE_COOKIES")))
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_MIMETYPES", [
        "text/html", "text/css", "text/plain", "text/csv", "application/json",
        "application/javascript", "text/javascript", "image/svg+xml"])
    compress.init_app(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in headers.items():
            response.headers.setdefault(name, value)
        return response
