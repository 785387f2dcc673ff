"""Serves uploaded product images from the upload folder (instance/uploads by default)."""
from flask import Blueprint, abort, current_app, send_from_directory

bp = Blueprint("media", __name__)


@bp.route("/media/<name>")
def image(name: str):
    if "/" in name or "\\" in name or name.startswith("."):
        abort(404)
    resp = send_from_directory(current_app.config["UPLOAD_FOLDER"], name, max_age=31536000)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp
