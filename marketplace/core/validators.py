"""Pure checks on identifiers people type: mobile numbers, e-mail, ID numbers, credit codes."""
from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata
from datetime import date

from stdnum.cn import ric, uscc
from stdnum.exceptions import ValidationError as StdnumError

from marketplace.core.i18n import Msg

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[A-Za-z]{2,}$")
MIN_PASSWORD_LENGTH = 8


def normalize_mobile(text: str) -> str | None:
    """A mainland mobile number (optionally +86 / 86 / spaces / dashes) -> 11 digits, else None."""
    digits = re.sub(r"[\s\-]", "", text or "")
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits if MOBILE_RE.match(digits) else None


def normalize_email(text: str) -> str | None:
    text = (text or "").strip().lower()
    return text if EMAIL_RE.match(text) and len(text) <= 254 else None


def classify_login(text: str) -> tuple[str, str] | None:
    """('email', value) or ('mobile', value) for a login identifier, None when it is neither."""
    if "@" in (text or ""):
        email = normalize_email(text)
        return ("email", email) if email else None
    mobile = normalize_mobile(text)
    return ("mobile", mobile) if mobile else None


def password_problem(password: str) -> str | None:
    """Why a password is too weak (Chinese message), or None when it is acceptable."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        return Msg("密码至少需要 %(n)s 位", n=MIN_PASSWORD_LENGTH)
    if len(password) > 128:
        return "密码不能超过 128 位"
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        return "密码需同时包含字母和数字"
    if len(set(password)) < 4:
        return "密码过于简单"
    return None


PROVINCE_PREFIXES = {
    "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37",
    "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64",
    "65", "71", "81", "82", "83",
}


def normalize_id_number(text: str) -> str | None:
    """An 18-character resident ID number with a valid check character, a real birth date and a
    province prefix, else None.

    python-stdnum's own validate() also requires the county code to have existed in the holder's
    birth year; that rejects real numbers of people born before their county got its current
    code (洞口县 430525 dates from 1986, many household heads were born earlier), so only the
    checksum and the date are taken from it.
    """
    value = unicodedata.normalize("NFKC", text or "").strip().upper().replace(" ", "")
    if len(value) != 18 or not value[:17].isascii() or not value[:17].isdigit():
        return None
    if value[:2] not in PROVINCE_PREFIXES:
        return None
    try:
        if ric.calc_check_digit(value) != value[-1]:
            return None
        birth = ric.get_birth_date(value)
    except (StdnumError, ValueError):
        return None
    if birth.year < 1900 or birth > date.today():
        return None
    return value


def id_number_hash(id_number: str, key: str) -> str:
    """Keyed hash of a normalised ID number, for de-duplication without storing the number."""
    return hmac.new(key.encode(), id_number.encode(), hashlib.sha256).hexdigest()


def normalize_credit_code(text: str) -> str | None:
    """An 18-character unified social credit code with a valid check character, else None."""
    value = (text or "").strip().upper().replace(" ", "")
    try:
        return uscc.validate(value)
    except StdnumError:
        return None


def mask_name(name: str) -> str:
    """张三 -> 张*, 张三明 -> 张*明, 欧阳小明 -> 欧**明; keeps the first and last character."""
    name = (name or "").strip()
    if len(name) <= 1:
        return name + "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_mobile(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:] if mobile and len(mobile) == 11 else ""
