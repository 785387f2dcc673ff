"""Money is integer fen, currency CNY. Conversion to and from yuan happens only at boundaries."""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

CURRENCY = "CNY"
MAX_PRICE_FEN = 9_999_999  # ¥99,999.99: past that a unit price is a typing slip, not produce
_YUAN_RE = re.compile(r"^(?P<yuan>[0-9]{1,12})(?:\.(?P<fen>[0-9]{1,2}))?$")


class MoneyFormatError(ValueError):
    """The text is not an amount of yuan with at most two decimals."""


def parse_yuan(text: str | None) -> int:
    """'12.5' -> 1250 fen. Accepts ¥/￥ and thousands separators; never goes through float."""
    if text is None:
        raise MoneyFormatError("empty")
    # NFKC turns full-width digits and dots typed on phone keyboards (１２．５) into ASCII
    cleaned = unicodedata.normalize("NFKC", str(text)).strip()
    cleaned = cleaned.replace(",", "").replace("，", "").lstrip("¥￥").strip()
    if cleaned.startswith("-"):
        raise MoneyFormatError("negative")
    match = _YUAN_RE.match(cleaned)
    if not match:
        raise MoneyFormatError("format")
    fen = (match.group("fen") or "").ljust(2, "0")
    return int(match.group("yuan")) * 100 + int(fen or 0)


def fen_to_yuan_text(fen: int) -> str:
    """1250 -> '12.50' (for form fields and exports)."""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def format_fen(fen: int | None) -> str:
    """1234567 -> '¥12,345.67' (for display)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100:,}.{fen % 100:02d}"


def money_json(fen: int) -> dict:
    return {"amount": int(fen), "currency": CURRENCY}


def split_largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` fen in proportion to non-negative integer `weights`; parts sum to `total`.

    Each part gets floor(total * w / W); the fen left over go one each to the largest
    remainders, ties broken by position (earlier first), so the result is deterministic.
    """
    if total < 0:
        raise ValueError("total must be >= 0")
    if any(w < 0 for w in weights):
        raise ValueError("weights must be >= 0")
    weight_sum = sum(weights)
    if not weights or weight_sum == 0:
        if total == 0:
            return [0] * len(weights)
        raise ValueError("cannot split a positive amount over zero weight")
    parts = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    left = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        parts[i] += 1
    return parts
