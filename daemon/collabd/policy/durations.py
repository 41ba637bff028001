"""Durations as the rules write them: `3 workdays`, `24h`, `48 working hours`, `2d`, `30m`."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Unit = Literal["minutes", "hours", "days", "working_hours", "workdays"]

_UNITS: dict[str, Unit] = {
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes",
    "minutes": "minutes", "分钟": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "小时": "hours",
    "d": "days", "day": "days", "days": "days", "天": "days", "日": "days",
    "working hour": "working_hours", "working hours": "working_hours",
    "work hour": "working_hours", "work hours": "working_hours", "wh": "working_hours",
    "工作小时": "working_hours", "个工作小时": "working_hours",
    "workday": "workdays", "workdays": "workdays", "working day": "workdays",
    "working days": "workdays", "wd": "workdays", "工作日": "workdays",
    "个工作日": "workdays",
}

_PATTERN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z\u4e00-\u9fff ]+?)\s*$")


@dataclass(frozen=True)
class Duration:
    amount: float
    unit: Unit

    def __str__(self) -> str:
        amount = int(self.amount) if self.amount == int(self.amount) else self.amount
        unit = self.unit.replace("_", " ")
        return f"{amount} {unit[:-1] if amount == 1 else unit}"

    @property
    def is_working_time(self) -> bool:
        return self.unit in ("workdays", "working_hours")


def parse_duration(text: str | int | float) -> Duration:
    """Parse a duration; a ValueError says what forms are understood."""
    if isinstance(text, int | float):
        raise ValueError(f"{text!r} has no unit; write e.g. '3 workdays', '24h', "
                         "'48 working hours' or '2d'")
    found = _PATTERN.match(str(text))
    unit = _UNITS.get(found.group(2).strip().lower()) if found else None
    if found is None or unit is None:
        raise ValueError(
            f"{text!r} is not a duration; write e.g. '3 workdays', '24h', "
            "'48 working hours', '2d' or '30m'"
        )
    return Duration(float(found.group(1)), unit)
