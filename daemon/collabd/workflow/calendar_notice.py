"""The working-day calendar must not guess silently. When the holiday schedule of a
year the daemon needs is not known (the installed `holidays` package has no State
Council notice for it, and calendar.yaml does not give it), the secretary is told:
once in December for the coming year, and once when a year has begun unknown (the
first pass of the year: a daemon started in it, or running into it)."""

from __future__ import annotations

from importlib.metadata import version

from collabd.clock import isoformat
from collabd.workflow.context import Context
from collabd.workflow.outcome import Outcome


def on_tick(ctx: Context, out: Outcome) -> None:
    calendar = ctx.rules.calendar
    today = ctx.now.astimezone(calendar.tz).date()
    for year in calendar.unpublished_ahead(today):
        if year == today.year:
            phase = "begun"
        elif today.month == 12:
            phase = "december"
        else:
            continue  # (November: the notice usually comes out now; `collabd check` warns)
        key = f"calendar_unpublished:{year}:{phase}"
        if ctx.view.meta(key) is not None or key in out.meta:
            continue
        out.meta[key] = {"at": isoformat(ctx.now)}
        directory = ctx.rules.directory
        out.send(ctx.draft(
            "calendar_unpublished", to=[ctx.person(directory.secretary)], record=None,
            purpose="calendar_unpublished", year=year, begun=phase == "begun",
            package=version("holidays")))
