"""What a notification says and where it leads, as stored: the message's key (a `Msg` template)
with its values as JSON, and an endpoint name with its arguments as JSON, so that the page can
show it in the reader's language and build its link with `url_for` (see `views`).

A nested `Msg` value is stored as {"key": template, "values": {...}} so that it is translated
too; other values are JSON numbers, strings, booleans or null (anything else as its text, which
is what the Chinese rendering showed). Plain functions: no request, no session.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from marketplace.core.i18n import Msg

KEY_LENGTH = 200  # notifications.message_key and notifications.text
ENDPOINT_LENGTH = 64  # notifications.endpoint


def _value(value):
    if isinstance(value, Msg):
        return {"key": value.template, "values": {k: _value(v) for k, v in value.values.items()}}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def _message(template: str, values: dict) -> Msg:
    values = {k: _message(v["key"], v.get("values") or {}) if isinstance(v, dict) else v
              for k, v in values.items()}
    template % values  # raises when the values do not fit the template
    return Msg(template, **values)


def pack(message: str) -> tuple[str, str]:
    """(key, values_json) of a message: a Msg's template and values, a plain str as a key with no
    values. A key longer than the column is not stored ("": the row is shown with its text)."""
    if isinstance(message, Msg):
        key, values = message.template, _value(message)["values"]
    else:
        key, values = str(message or ""), {}
    if len(key) > KEY_LENGTH:
        return "", "{}"
    return key, _dumps(values)


def unpack(key: str, values_json: str) -> Msg | None:
    """The Msg that `pack` stored, or None when there is none (a row written before the keys) or
    it no longer reads (broken JSON, values that do not fit the template)."""
    if not key:
        return None
    try:
        values = json.loads(values_json or "{}")
        return _message(key, values if isinstance(values, dict) else {})
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def pack_args(args: dict) -> str:
    """An endpoint's arguments as JSON (None left out, as url_for would); `_anchor` is kept."""
    return _dumps({k: _value(v) for k, v in args.items() if v is not None})


def unpack_args(args_json: str) -> dict:
    """The arguments `pack_args` stored ({} when unreadable)."""
    try:
        args = json.loads(args_json or "{}")
    except ValueError:
        return {}
    return args if isinstance(args, dict) else {}


def _dumps(value) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class Notice:
    """One notification's content: the message (in Chinese, with its key and values) and the
    endpoint its link is built from, with that endpoint's arguments."""

    message: str
    endpoint: str = ""
    args: dict = field(default_factory=dict)

    def columns(self, prefix: str = "") -> dict:
        """The notifications columns (text, message_key, message_values, endpoint,
        endpoint_args) for this notice, each name with `prefix` (bound parameters' names)."""
        if len(self.endpoint) > ENDPOINT_LENGTH:
            raise ValueError(f"endpoint name longer than {ENDPOINT_LENGTH}: {self.endpoint}")
        key, values = pack(self.message)
        return {f"{prefix}text": str(self.message)[:KEY_LENGTH], f"{prefix}message_key": key,
                f"{prefix}message_values": values, f"{prefix}endpoint": self.endpoint,
                f"{prefix}endpoint_args": pack_args(self.args)}
