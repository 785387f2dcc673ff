"""The application's JSON parsing (Flask's json provider): a body nested deeper than
core.inputs.MAX_JSON_DEPTH, or so deep that Python's parser would run out of stack, is not
JSON this site reads. Refused as a ValueError, so `request.get_json(silent=True)` answers None
and the API says 400 invalid_json instead of failing with a RecursionError (a 500)."""
from __future__ import annotations

from flask.json.provider import DefaultJSONProvider

from marketplace.core.inputs import MAX_JSON_DEPTH, json_depth_exceeds


class JSONProvider(DefaultJSONProvider):
    ensure_ascii = False  # UTF-8 JSON: readable Chinese in the API and in |tojson

    def loads(self, s, **kwargs):
        try:
            data = super().loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if json_depth_exceeds(data, MAX_JSON_DEPTH):
            raise ValueError("JSON nested too deeply")
        return data
