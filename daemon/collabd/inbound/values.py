"""Reading what people write in form fields: chosen options, dates, record numbers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from collabd.policy.schema import ChoiceSpec
from collabd.textnorm import fold

_DATE_YMD = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_DATE_MD = re.compile(r"(?<!\d)(\d{1,2})\s*(?:月\s*(\d{1,2})\s*[日号]?|/(\d{1,2})(?![\d/]))")
_RECORD_ID = re.compile(r"\b(XQ|WT)\s*-?\s*(\d{4})\s*-?\s*(\d{1,5})\b", re.IGNORECASE)


def record_id(text: str, prefix: str | None = None) -> str | None:
    """`XQ-2026-0001` (also written xq 2026 1, ＸＱ－２０２６－０００１) → canonical form."""
    found = _RECORD_ID.search(unicodedata.normalize("NFKC", text))
    if found is None or (prefix and found.group(1).upper() != prefix):
        return None
    return f"{found.group(1).upper()}-{found.group(2)}-{int(found.group(3)):04d}"


def date_spans(text: str) -> list[re.Match[str]]:
    """Every date written in `text` (2026-12-10, 2026年12月10日, 12月10日, 12/10), in order."""
    value = unicodedata.normalize("NFKC", text)
    spans = list(_DATE_YMD.finditer(value))
    covered = [(m.start(), m.end()) for m in spans]
    spans += [m for m in _DATE_MD.finditer(value)
              if not any(a <= m.start() < b for a, b in covered)]
    return sorted(spans, key=lambda m: m.start())


def parse_date(text: str, today: dt.date) -> tuple[dt.date | None, str | None]:
    """A date as people write it; without a year, the year that makes it next.

    A month-day that passed less than a month ago keeps this year (and is then caught
    as a date in the past); one that passed longer ago means next year (written in
    December about January).
    """
    value = unicodedata.normalize("NFKC", text)
    found = _DATE_YMD.search(value)
    try:
        if found:
            return dt.date(int(found.group(1)), int(found.group(2)), int(found.group(3))), None
        found = _DATE_MD.search(value)
        if found:
            month = int(found.group(1))
            day = int(found.group(2) or found.group(3))
            candidate = dt.date(today.year, month, day)
            if candidate < today - dt.timedelta(days=31):
                candidate = dt.date(today.year + 1, month, day)
            return candidate, None
    except ValueError:
        return None, f"「{text}」不是有效的日期"
    example = today + dt.timedelta(days=14)
    return None, (f"「{text}」无法识别为日期（请写成 {example:%Y-%m-%d} 或 "
                  f"{example.year}年{example.month}月{example.day}日）")


def parse_choice(text: str, spec: ChoiceSpec, checked: Sequence[str],
                 unchecked: Sequence[str]) -> tuple[str | None, str | None]:
    """The option chosen in `■项目推进 □资源支持`, `紧急（√）`, `[x] 一般`, or `一般` alone."""
    folded = fold(text)
    marks_on = sorted({fold(m) for m in checked}, key=len, reverse=True)
    marks_off = sorted({fold(m) for m in unchecked}, key=len, reverse=True)
    hits: list[tuple[int, int, str]] = []  # (start, end, option)
    words = sorted({(fold(w), option) for option, synonyms in spec.options.items()
                    for w in (option, *synonyms)}, key=lambda p: len(p[0]), reverse=True)
    for word, option in words:  # longest first: 不紧急 is not 紧急
        for found in re.finditer(re.escape(word), folded):
            start, end = found.span()
            if not any(start < e and s < end for s, e, _ in hits):
                hits.append((start, end, option))
    if not hits:
        return None, f"「{text}」不是可选项（可选：{'、'.join(spec.options)}）"
    hits.sort()
    marks = sorted((*marks_on, *marks_off), key=len, reverse=True)
    if not any(m in folded for m in marks):
        chosen = list(dict.fromkeys(option for _, _, option in hits))
        if len(chosen) == 1:
            return chosen[0], None
        return None, f"「{text}」列出了多项，请只保留一项或在所选项前打 ■"
    # A form puts its marks either before each option (■项目推进 □资源支持) or after
    # each (项目推进(√) 资源支持( )); the first option tells which.
    marks_before = any(folded[: hits[0][0]].strip().endswith(m) for m in marks)
    chosen = []
    for index, (start, end, option) in enumerate(hits):
        if marks_before:
            gap = folded[hits[index - 1][1] if index else 0:start].strip()
            mark = next((m for m in marks if gap.endswith(m)), None)
        else:
            gap = folded[end:hits[index + 1][0] if index + 1 < len(hits) else len(folded)]
            mark = next((m for m in marks if gap.strip().startswith(m)), None)
        if mark in marks_on:
            chosen.append(option)
    chosen = list(dict.fromkeys(chosen))
    if len(chosen) == 1:
        return chosen[0], None
    if not chosen:
        return None, f"「{text}」没有勾选任何一项（在所选项前打 ■ 或 √）"
    return None, f"「{text}」勾选了多项（{'、'.join(chosen)}），请只选一项"
