from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

CHINA = ZoneInfo("Asia/Shanghai")


def now_utc() -> datetime:
    """The current time, timezone-aware (UTC): datetime.now(timezone.utc). Every stored time
    comes from here, so none is ever naive."""
    return datetime.now(timezone.utc)


def today_china() -> date:
    """Today's date in China; certificate expiry and similar calendar rules use it."""
    return datetime.now(CHINA).date()


def as_aware(value: datetime | None) -> datetime | None:
    """SQLite hands back naive datetimes; they were stored as UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value
