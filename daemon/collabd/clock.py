"""The one clock of the daemon: injected everywhere, fixed by `--now`, driven by the demo."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


class Clock(Protocol):
    """What the rest of the code may know about time."""

    tz: ZoneInfo

    def now(self) -> dt.datetime:
        """The current moment, timezone-aware, in the deployment's timezone."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back; for timeouts, not for records."""
        ...


class SystemClock:
    """Wall-clock time. The only place in collabd that reads the system time."""

    def __init__(self, tz: str | ZoneInfo = DEFAULT_TZ) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)

    def now(self) -> dt.datetime:
        return dt.datetime.now(self.tz)

    def monotonic(self) -> float:
        return time.monotonic()


class FixedClock:
    """A clock that reads a set moment; `advance` moves it (simulations, tests, `--now`)."""

    def __init__(self, at: dt.datetime, tz: str | ZoneInfo = DEFAULT_TZ) -> None:
        self.tz = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.tz)
        self._at = at.astimezone(self.tz)
        self._mono = 0.0

    def now(self) -> dt.datetime:
        return self._at

    def monotonic(self) -> float:
        return self._mono

    def set(self, at: dt.datetime) -> None:
        if at.tzinfo is None:
            at = at.replace(tzinfo=self.tz)
        delta = (at - self._at).total_seconds()
        self._at = at.astimezone(self.tz)
        self._mono += max(delta, 0.0)

    def advance(self, delta: dt.timedelta) -> None:
        self.set(self._at + delta)


def parse_instant(text: str, tz: str | ZoneInfo = DEFAULT_TZ) -> dt.datetime:
    """Parse an ISO-8601 moment; without an offset it is read in the deployment's timezone."""
    zone = tz if isinstance(tz, ZoneInfo) else ZoneInfo(tz)
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(
            f"{text!r} is not an ISO-8601 moment (expected e.g. 2026-12-01T09:30 or "
            "2026-12-01T09:30:00+08:00)"
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(zone)


def stored_moment(value: object) -> dt.datetime | None:
    """A moment as records keep it (ISO-8601), or None when absent or unreadable."""
    try:
        return dt.datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def stored_day(value: object) -> dt.date | None:
    """The date of a stored date or moment (its first ten characters), or None."""
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def isoformat(value: dt.datetime) -> str:
    """The one textual form of a moment in records and JSON output: ISO-8601 with offset."""
    if value.tzinfo is None:
        raise ValueError("naive datetime reached the store; every moment must carry its offset")
    return value.isoformat(timespec="seconds")
