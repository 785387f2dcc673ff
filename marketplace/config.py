"""Configuration: defaults, environment overrides (MARKETPLACE_*), demo and test presets."""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSECURE_KEYS = {"", "dev", "change-me", "demo-insecure-key", "test-insecure-key"}


class ConfigError(RuntimeError):
    """The configuration cannot run safely (for example, no real secret key in production)."""


def _env_bool(value: str | None, default: bool = False) -> bool:
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def default_config() -> dict:
    instance = Path(os.environ.get("MARKETPLACE_INSTANCE_PATH", PROJECT_ROOT / "instance"))
    return {
        "MARKETPLACE_MODE": "production",  # production | demo | test
        "SECRET_KEY": "",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'marketplace.sqlite3'}",
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        # a streaming replica for the reports' reads (core.db.reports_session); writes always go
        # to the primary. None: reports read the primary
        "REPORTS_DATABASE_URL": None,
        "UPLOAD_FOLDER": str(instance / "uploads"),
        "SEARCH_ROOT": str(instance / "search"),
        "SEARCH_SYNC": "inline",  # inline: apply the outbox after each changing request | off
        # a reading process checks the outbox at most this often and applies what other app
        # servers changed (search.catchup); negative: never (SEARCH_SYNC 'off' turns it off too)
        "SEARCH_CATCHUP_SECONDS": 1.0,
        "MAX_IMAGE_BYTES": 5 * 1024 * 1024,
        "MAX_IMAGES_PER_PRODUCT": 5,
        # five images of 5 MB plus the form fields; past this the request is refused with 413
        "MAX_CONTENT_LENGTH": 27 * 1024 * 1024,
        "IMAGE_MAX_SIDE": 1200,
        "IMAGE_THUMB_SIDE": 360,  # a phone card (~180 CSS px) at 2x
        "PER_PAGE": 24,
        "ORDER_PAYMENT_WINDOW_MINUTES": 30,  # stock stays reserved this long for an unpaid order
        # bank transfer (对公转账): the account buyers transfer to, and how long an order waits
        "BANK_TRANSFER_DAYS": 3,
        "BANK_ACCOUNT_NAME": "帮扶集市平台（演示账户）",
        "BANK_NAME": "中国农业银行怀化分行（演示）",
        "BANK_ACCOUNT_NO": "6228 0000 0000 0000 000",
        # Stripe is enabled by a secret key; webhooks need the endpoint's signing secret
        "STRIPE_SECRET_KEY": "",
        "STRIPE_WEBHOOK_SECRET": "",
        "STRIPE_WEBHOOK_TOLERANCE": 300,  # seconds a signed webhook stays acceptable
        "STRIPE_API_BASE": "",  # another API address (tests point it at a local fake)
        "API_TOKEN_MAX_AGE": 7 * 24 * 3600,
        "SQLITE_BUSY_TIMEOUT_MS": 15000,
        # dialect twins of hot-path statements (core.db.use_twin): "all", "none", or names
        # ("ledger.append,ledger.draw"); the portable statement runs for the others
        "SQL_TWINS": "all",
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh", "en"],
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_HTTPONLY": True,
        "REMEMBER_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_DURATION": timedelta(days=30),
        # HTTPS only: the session and remember cookies are Secure (finalize sets both from it)
        "SECURE_COOKIES": False,
        # failed sign-ins (accounts.guard): this many within the window and the login, or the
        # client's address, waits until the oldest of them leaves the window
        "LOGIN_FAILURE_LIMIT": 10,
        "LOGIN_FAILURE_WINDOW_MINUTES": 15,
        # reverse proxies in front of the app that append to X-Forwarded-For: the client's
        # address is the one the outermost saw (0: the connection's own address)
        "TRUSTED_PROXIES": 0,
        # keyed hash of household ID numbers: derived from the secret key unless set
        "HOUSEHOLD_ID_HASH_KEY": "",
        "PASSWORD_HASH_METHOD": "scrypt",
        # budget units' annual filings (units.filings): the minimum reserved share where no
        # region sets one (basis points, 1000 = 10%) and each year's deadline ("MM-DD")
        "UNIT_RESERVE_MIN_BP": 1000,
        "FILING_DEADLINE": "03-31",
        # needs and micro-wishes (help.needs): a wish's cap (fen), how long a claim holds a
        # need, a poster's needs a day, a household's needs pending, open or claimed at once
        "HELP_WISH_CAP_FEN": 50_000,
        "HELP_CLAIM_HOLD_DAYS": 7,
        "HELP_POSTS_PER_DAY": 20,
        "HELP_OPEN_NEEDS_PER_HOUSEHOLD": 3,
    }


def environment_overrides(environ=os.environ) -> dict:
    """Read MARKETPLACE_* variables. Only set variables override the defaults."""
    out: dict = {}
    mapping = {
        "MARKETPLACE_DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
        "MARKETPLACE_REPORTS_DATABASE_URL": "REPORTS_DATABASE_URL",
        "MARKETPLACE_SECRET_KEY": "SECRET_KEY",
        "MARKETPLACE_UPLOAD_FOLDER": "UPLOAD_FOLDER",
        "MARKETPLACE_SEARCH_ROOT": "SEARCH_ROOT",
        "MARKETPLACE_SEARCH_SYNC": "SEARCH_SYNC",
        "MARKETPLACE_MODE": "MARKETPLACE_MODE",
        "MARKETPLACE_HOUSEHOLD_ID_HASH_KEY": "HOUSEHOLD_ID_HASH_KEY",
        "MARKETPLACE_STRIPE_SECRET_KEY": "STRIPE_SECRET_KEY",
        "MARKETPLACE_STRIPE_WEBHOOK_SECRET": "STRIPE_WEBHOOK_SECRET",
        "MARKETPLACE_STRIPE_API_BASE": "STRIPE_API_BASE",
        "MARKETPLACE_SQL_TWINS": "SQL_TWINS",
    }
    for env_name, key in mapping.items():
        if environ.get(env_name):
            out[key] = environ[env_name]
    if environ.get("MARKETPLACE_ORDER_PAYMENT_WINDOW_MINUTES"):
        out["ORDER_PAYMENT_WINDOW_MINUTES"] = int(environ["MARKETPLACE_ORDER_PAYMENT_WINDOW_MINUTES"])
    if environ.get("MARKETPLACE_SEARCH_CATCHUP_SECONDS"):
        out["SEARCH_CATCHUP_SECONDS"] = float(environ["MARKETPLACE_SEARCH_CATCHUP_SECONDS"])
    if environ.get("MARKETPLACE_SEARCH_BUILD_MISSING") is not None:
        out["SEARCH_BUILD_MISSING"] = _env_bool(environ.get("MARKETPLACE_SEARCH_BUILD_MISSING"))
    if environ.get("MARKETPLACE_PER_PAGE"):
        out["PER_PAGE"] = int(environ["MARKETPLACE_PER_PAGE"])
    if environ.get("MARKETPLACE_SECURE_COOKIES") is not None:
        out["SECURE_COOKIES"] = _env_bool(environ.get("MARKETPLACE_SECURE_COOKIES"))
    if environ.get("MARKETPLACE_TRUSTED_PROXIES"):
        out["TRUSTED_PROXIES"] = int(environ["MARKETPLACE_TRUSTED_PROXIES"])
    if environ.get("MARKETPLACE_UNIT_RESERVE_MIN_BP"):
        out["UNIT_RESERVE_MIN_BP"] = int(environ["MARKETPLACE_UNIT_RESERVE_MIN_BP"])
    if environ.get("MARKETPLACE_FILING_DEADLINE"):
        out["FILING_DEADLINE"] = environ["MARKETPLACE_FILING_DEADLINE"].strip()
    return out


def test_config(tmp_path: Path, database_url: str | None = None) -> dict:
    return {
        "MARKETPLACE_MODE": "test",
        "TESTING": True,
        "SECRET_KEY": "test-insecure-key",
        "SQLALCHEMY_DATABASE_URI": database_url or f"sqlite:///{tmp_path / 'test.sqlite3'}",
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "SEARCH_ROOT": str(tmp_path / "search"),
        "SERVER_NAME": None,
        # fast hashing keeps the suite quick; production keeps scrypt
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
    }


def finalize(config: dict) -> dict:
    """Fill derived values and refuse unsafe production settings."""
    mode = config.get("MARKETPLACE_MODE", "production")
    if mode not in {"production", "demo", "test"}:
        raise ConfigError(f"MARKETPLACE_MODE must be production, demo or test, not {mode!r}")
    if not config.get("SECRET_KEY"):
        if mode == "demo":
            config["SECRET_KEY"] = "demo-insecure-key"
        elif mode == "test":
            config["SECRET_KEY"] = "test-insecure-key"
    key = config.get("SECRET_KEY", "")
    if mode == "production" and (key in INSECURE_KEYS or len(key) < 24):
        raise ConfigError(
            "Refusing to start: set MARKETPLACE_SECRET_KEY to a random value of at least 24 "
            "characters (for example: python -c 'import secrets; print(secrets.token_hex(32))'), "
            "or run with MARKETPLACE_MODE=demo for the demo."
        )
    secure = bool(config.get("SECURE_COOKIES"))
    config["SESSION_COOKIE_SECURE"] = config["REMEMBER_COOKIE_SECURE"] = secure
    if not config.get("HOUSEHOLD_ID_HASH_KEY"):
        config["HOUSEHOLD_ID_HASH_KEY"] = "household-id:" + key
    return config


test_config.__test__ = False  # a helper, not a test, when imported into test modules
