from flask import Blueprint

bp = Blueprint("households", __name__)
