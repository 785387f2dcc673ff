"""The rules every piece of client input passes, whichever door it comes through (a path, a
query string, a form, a JSON body): whole numbers that fit the database, texts without hidden
characters, JSON of a sane depth, and `next` targets that stay on this site.

Pure functions: views and the API call them; the errors they raise are domain errors, so a bad
value is a clear Chinese message (a JSON error under /api), never a 500.
"""
from __future__ import annotations

import math
import re
from urllib.parse import unquote, urlsplit

from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg

# ---- whole numbers ----------------------------------------------------------------------------

BIGINT_MAX = 2**63 - 1  # what a database id (BIGINT) can hold
MAX_JSON_DEPTH = 32


def bounded_int(raw, low: int, high: int) -> int | None:
    """`raw` (a query, form or path value) as an integer from `low` to `high`; None when it is
    missing, not a whole number in plain ASCII digits (an optional minus sign) or out of
    range. Never raises, whatever the size of the number."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        return raw if low <= raw <= high else None
    text = str(raw).strip() if raw is not None else ""
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 40:
        return None
    value = int(text)
    return value if low <= value <= high else None


def id_value(raw) -> int | None:
    """An id a client sent (?seller=, a hidden product_id...): 1 to BIGINT_MAX, else None (the
    caller answers 404 for an id in a path, 400 or "not found" otherwise)."""
    return bounded_int(raw, 1, BIGINT_MAX)


# ---- texts ------------------------------------------------------------------------------------

# C0 controls and DEL, C1 controls; newline, carriage return and tab are judged apart
_CONTROLS = "".join(chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))
                    if chr(c) not in "\n\r\t")
# bidi embeddings, overrides and isolates (a right-to-left override can disguise a name or a
# file type), zero-width characters and the byte-order mark (invisible, they make two equal
# looking texts differ)
_BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_ZERO_WIDTH = "\u200b\u200c\u200d\u200e\u200f\ufeff"
_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile(f"[{re.escape(_CONTROLS)}]")
_HIDDEN = re.compile(f"[{_BIDI}{_ZERO_WIDTH}]")
_LINE_BREAK = re.compile("[\n\r\t]")


def text_problem(value: str, *, multiline: bool = False) -> Msg | None:
    """Why a text a client typed cannot be stored, or None when it is fine: a lone surrogate
    (not text at all), a control character (newline and tab only in a multi-line field),
    a bidi override or isolate, a zero-width character."""
    if _SURROGATE.search(value):
        return Msg("含有无法识别的字符（不成对的代理项），请重新输入")
    if _CONTROL.search(value) or (not multiline and _LINE_BREAK.search(value)):
        return Msg("含有不可见的控制字符，请删除后重新输入")
    if _HIDDEN.search(value):
        return Msg("含有不可见的方向控制符或零宽字符，请删除后重新输入")
    return None


def clean_text(value: str, *, multiline: bool = False) -> str:
    """A text that passed `text_problem`, with Windows line ends made plain (a textarea posts
    CR LF)."""
    return value.replace("\r\n", "\n").replace("\r", "\n") if multiline else value


def check_text(value: str, field: str, label: str = "", *, multiline: bool = False) -> str:
    """`value` cleaned, or ValidationFailed naming the field (its label, else its name)."""
    problem = text_problem(value, multiline=multiline)
    if problem is not None:
        raise ValidationFailed(Msg("%(field)s%(problem)s", field=label or field,
                                   problem=problem), field=field)
    return clean_text(value, multiline=multiline)


def rejection_reason(text: str | None, most: int = 200) -> str:
    """Why an application was turned down (a seller's, a unit's, a product's): spaces
    collapsed, required, at most `most` characters; ValidationFailed on field "reason"."""
    reason = " ".join((text or "").split())
    if not reason:
        raise ValidationFailed("请填写驳回原因", field="reason")
    if len(reason) > most:
        raise ValidationFailed(Msg("驳回原因最多 %(n)s 个字", n=most), field="reason")
    return reason


def check_query(args) -> None:
    """Every name and value of a query string passes the (single-line) text rule; the first bad
    one is a ValidationFailed naming it (a 400 page, or JSON under /api)."""
    for name, value in args.items(multi=True):
        for text in (name, value):
            problem = text_problem(text)
            if problem is not None:
                label = name if text is value and text_problem(name) is None else "?"
                raise ValidationFailed(Msg("查询参数 %(field)s %(problem)s", field=label,
                                           problem=problem), field=label)


# ---- JSON bodies ------------------------------------------------------------------------------

def json_depth_exceeds(data, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether parsed JSON nests arrays and objects deeper than `limit` (walked without
    recursion, so any depth can be measured)."""
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > limit:
                return True
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)
    return False


def check_json(data, *, multiline: frozenset[str] = frozenset()) -> None:
    """Every string (key or value) and whole number of a JSON body, at any depth, passes the
    text and integer rules; all problems in one 400 naming the fields (`lines[0].quantity`).
    Keys named in `multiline` may hold newlines and tabs."""
    errors: dict[str, list] = {}

    def complain(path: str, message) -> None:
        errors.setdefault(path or "body", []).append(message)

    stack = [("", data, False)]
    while stack:
        path, value, multi = stack.pop()
        if isinstance(value, dict):
            for key, child in value.items():
                problem = text_problem(key)
                if problem is not None:
                    complain(path or "body", problem)
                    continue
                stack.append((f"{path}.{key}" if path else key, child, key in multiline))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", child, multi) for i, child in enumerate(value))
        elif isinstance(value, str):
            problem = text_problem(value, multiline=multi)
            if problem is not None:
                complain(path, problem)
        elif isinstance(value, int) and not isinstance(value, bool):
            if not -BIGINT_MAX <= value <= BIGINT_MAX:
                complain(path, Msg("数值超出范围"))
        elif isinstance(value, float) and not math.isfinite(value):
            complain(path, Msg("不是有效的数值"))
    if errors:
        first = sorted(errors)[0]
        raise ValidationFailed(Msg("%(field)s：%(problem)s", field=first,
                                   problem=errors[first][0]), errors=errors)


# ---- where to go next -------------------------------------------------------------------------

_STRIPPED = re.compile(r"[\x00-\x20\x7f-\x9f\s\u200b-\u200f\u2028\u2029\u202a-\u202e"
                       r"\u2060-\u2069\ufeff]")


def safe_next(target, default: str) -> str:
    """Where a `next` value may send the browser: a path on this site, else `default`.

    Decided on the text a browser would follow: whitespace and control characters (browsers
    drop tabs and newlines anywhere in a URL) and invisible characters removed, backslashes read
    as slashes (browsers do), percent escapes undone; what is left must start with one slash
    and name no scheme or host. The cleaned path is returned, so no control character can reach
    a Location header."""
    if not isinstance(target, str) or not target:
        return default
    path = _STRIPPED.sub("", target).replace("\\", "/")
    if _SURROGATE.search(path):
        return default
    decoded = path
    for _ in range(3):  # /%252F%252Fevil: a doubly escaped slash still counts
        decoded = _STRIPPED.sub("", unquote(decoded)).replace("\\", "/")
    for candidate in (path, decoded):
        if not candidate.startswith("/") or candidate.startswith("//"):
            return default
        try:
            parts = urlsplit(candidate)
        except ValueError:
            return default
        if parts.scheme or parts.netloc:
            return default
    return path
