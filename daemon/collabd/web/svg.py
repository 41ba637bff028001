"""Pictures for the board, as inline SVG (no script, no external file): a progress bar,
a project's task bars (planned against actual) and its burn-down."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from markupsafe import Markup, escape

from collabd.clock import stored_day

GREEN, AMBER, RED, GREY, BLUE = "#3c9a5f", "#d99a1e", "#c43c3c", "#c9ced6", "#4a7fc1"


def progress(done: int, total: int, *, width: int = 160) -> Markup:
    share = done / total if total else 0.0
    filled = round(width * share)
    return Markup(
        f'<svg role="img" aria-label="完成 {done}/{total}" width="{width + 60}" height="14" '
        f'xmlns="http://www.w3.org/2000/svg"><rect width="{width}" height="12" y="1" '
        f'fill="{GREY}" rx="3"/><rect width="{filled}" height="12" y="1" fill="{GREEN}" '
        f'rx="3"/><text x="{width + 6}" y="11" font-size="11">{round(share * 100)}%</text>'
        '</svg>')


def task_bars(tasks: Sequence[Mapping[str, Any]], today: dt.date) -> Markup:
    """One row per task: the planned span (light) and the actual one (solid: green when
    finished on time, red when late or running past plan), with today's line."""
    spans = [(t, stored_day(t.get("planned_start")) or stored_day(t.get("created")),
              stored_day(t.get("due_date"))) for t in tasks]
    days = [d for _, s, e in spans for d in (s, e) if d] + [today]
    days += [d for t in tasks if (d := stored_day(t.get("actual_finish")))]
    if not tasks:
        return Markup("")
    first, last = min(days), max(days) + dt.timedelta(days=1)
    label_w, width, row = 210, 520, 22
    scale = width / max(1, (last - first).days)

    def x(day: dt.date) -> float:
        return label_w + (day - first).days * scale

    parts = [f'<svg role="img" aria-label="任务甘特图" xmlns="http://www.w3.org/2000/svg" '
             f'width="{label_w + width + 10}" height="{row * len(tasks) + 46}" '
             'font-size="12">']
    for index, (task, start, end) in enumerate(spans):
        y = 20 + index * row
        title = escape(f"{task.get('id')} {task.get('title', '')}")
        parts.append(f'<text x="0" y="{y + 12}">{escape(str(title)[:18])}'
                     f'<title>{title}</title></text>')
        if start and end:
            parts.append(f'<rect x="{x(start):.1f}" y="{y + 2}" '
                         f'width="{max(2.0, x(end + dt.timedelta(days=1)) - x(start)):.1f}" '
                         f'height="7" fill="{GREY}"><title>计划 {start} 至 {end}</title></rect>')
        finish = stored_day(task.get("actual_finish"))
        if start and (finish or start <= today):
            stop = finish or today
            late = end is not None and stop > end
            colour = RED if late else (GREEN if finish else BLUE)
            what = f"实际 {start} 至 {finish}" if finish else f"进行中（截至 {today}）"
            parts.append(f'<rect x="{x(start):.1f}" y="{y + 10}" '
                         f'width="{max(2.0, x(stop + dt.timedelta(days=1)) - x(start)):.1f}" '
                         f'height="7" fill="{colour}"><title>{escape(what)}</title></rect>')
    top, bottom = 14, 20 + row * len(tasks)
    parts.append(f'<line x1="{x(today):.1f}" x2="{x(today):.1f}" y1="{top}" y2="{bottom}" '
                 f'stroke="{RED}" stroke-dasharray="3,2"/><text x="{x(today) + 3:.1f}" '
                 f'y="11" fill="{RED}">今天</text>')
    # the axis below: the first and last day, and each month's first day between
    axis = bottom + 16
    parts.append(f'<line x1="{label_w}" x2="{label_w + width}" y1="{bottom + 2}" '
                 f'y2="{bottom + 2}" stroke="#999"/>')
    ticks = [first] + [d for d in (first + dt.timedelta(days=n)
                                   for n in range(1, (last - first).days))
                       if d.day == 1] + [last - dt.timedelta(days=1)]
    shown: list[float] = []
    for day in ticks:
        if all(abs(x(day) - s) > 70 for s in shown):
            shown.append(x(day))
            parts.append(f'<text x="{x(day):.1f}" y="{axis}" text-anchor="middle">'
                         f'{day:%m-%d}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def burn_down(tasks: Sequence[Mapping[str, Any]], start: dt.date | None,
              finish: dt.date | None, today: dt.date) -> Markup:
    """Open tasks day by day (solid) against the straight line from all to none by the
    planned finish (dashed)."""
    total = len(tasks)
    if not total or start is None or finish is None or finish <= start:
        return Markup("")
    end = max(finish, min(today, finish + dt.timedelta(days=60)))
    width, height, pad = 520, 160, 30
    span = max(1, (end - start).days)

    def x(day: dt.date) -> float:
        return pad + (day - start).days * width / span

    def y(count: float) -> float:
        return pad / 2 + (height - pad) * (1 - count / total)

    done_on = [stored_day(t.get("actual_finish")) for t in tasks]
    points = []
    day = start
    while day <= min(today, end):
        remaining = sum(1 for d in done_on if d is None or d > day)
        points.append(f"{x(day):.1f},{y(remaining):.1f}")
        day += dt.timedelta(days=1)
    parts = [f'<svg role="img" aria-label="燃尽图" xmlns="http://www.w3.org/2000/svg" '
             f'width="{width + pad * 2}" height="{height + 10}" font-size="11">',
             f'<line x1="{pad}" y1="{y(total):.1f}" x2="{x(finish):.1f}" y2="{y(0):.1f}" '
             f'stroke="{GREY}" stroke-dasharray="4,3"><title>计划</title></line>',
             f'<line x1="{pad}" y1="{y(0):.1f}" x2="{x(end):.1f}" y2="{y(0):.1f}" '
             'stroke="#999"/>',
             f'<text x="2" y="{y(total) + 4:.1f}">{total}</text>'
             f'<text x="2" y="{y(0) + 4:.1f}">0</text>',
             f'<text x="{pad}" y="{height + 8}">{start}</text>'
             f'<text x="{x(finish) - 60:.1f}" y="{height + 8}">{finish}</text>']
    if points:
        parts.append(f'<polyline fill="none" stroke="{BLUE}" stroke-width="2" '
                     f'points="{" ".join(points)}"><title>未完成任务数</title></polyline>')
    parts.append("</svg>")
    return Markup("".join(parts))
