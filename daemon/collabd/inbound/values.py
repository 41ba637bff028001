"""Reading what people write in form fields: chosen options, dates, record numbers."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence

from collabd.ids import known_prefix
from collabd.policy.schema import ChoiceSpec
from collabd.textnorm import fold

_DATE_YMD = re.compile(r"(?<!\d)(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_DATE_MD = re.compile(r"(?<!\d)(\d{1,2})\s*(?:月\s*(\d{1,2})\s*[日号]?|/(\d{1,2})(?![\d/]))")
# (with a mailbox's prefix before it: SH-XQ-2026-0001, collabd.ids)
_RECORD_ID = re.compile(r"\b(?:([A-Z]{2,6})\s*-\s*)?(XQ|WT|PJ)\s*-?\s*(\d{4})\s*-?\s*"
                        r"(\d{1,5})\b", re.IGNORECASE)


def record_id(text: str, prefix: str | None = None) -> str | None:
    """`XQ-2026-0001` (also written xq 2026 1, ＸＱ－２０２６－０００１) → canonical form;
    `prefix`: only an id of that kind (XQ, PJ …)."""
    found = _RECORD_ID.search(unicodedata.normalize("NFKC", text))
    if found is None or (prefix and found.group(2).upper() != prefix):
        return None
    prefix_ = known_prefix(found.group(1))  # (only a configured mailbox's: collabd.ids)
    mailbox = f"{prefix_}-" if prefix_ else ""
    return f"{mailbox}{found.group(2).upper()}-{found.group(3)}-{int(found.group(4)):04d}"


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


def ticked(text: str, checked: Sequence[str], unchecked: Sequence[str]) -> list[str] | None:
    """What is ticked in `■研发部 □销售部 ■财务部`, `研发部(√) 销售部( )` or `[x] 一般`:
    the text beside each checked mark (folded), in order; None when `text` has no
    marks at all (an option written alone)."""
    folded = fold(text)
    marks = sorted({(fold(m), True) for m in checked} | {(fold(m), False) for m in unchecked},
                   key=lambda pair: len(pair[0]), reverse=True)
    found: list[tuple[int, int, bool]] = []  # (start, end, checked)
    for mark, on in marks:  # longest first: (√) is one mark, not ( ) around √
        for hit in re.finditer(re.escape(mark), folded):
            start, end = hit.span()
            if not any(start < e and s < end for s, e, _ in found):
                found.append((start, end, on))
    if not found:
        return None
    found.sort()
    # A form puts its marks either before each option (■项目推进 □资源支持) or after
    # each (项目推进(√) 资源支持( )); whether the text begins with one tells which.
    before = not folded[:found[0][0]].strip()
    out = []
    for index, (start, end, on) in enumerate(found):
        if before:
            beside = folded[end:found[index + 1][0] if index + 1 < len(found) else None]
        else:
            beside = folded[found[index - 1][1] if index else 0:start]
        if on and beside.strip():
            out.append(beside.strip())
    return out


def _options_in(folded: str, spec: ChoiceSpec) -> list[str]:
    """The options (or their synonyms) written in `folded`, in order, each once;
    longest first, so that 不紧急 is not 紧急."""
    hits: list[tuple[int, int, str]] = []
    words = sorted({(fold(w), option) for option, synonyms in spec.options.items()
                    for w in (option, *synonyms)}, key=lambda p: len(p[0]), reverse=True)
    for word, option in words:
        for found in re.finditer(re.escape(word), folded):
            start, end = found.span()
            if not any(start < e and s < end for s, e, _ in hits):
                hits.append((start, end, option))
    return list(dict.fromkeys(option for _, _, option in sorted(hits)))


def parse_choice(text: str, spec: ChoiceSpec, checked: Sequence[str],
                 unchecked: Sequence[str]) -> tuple[str | None, str | None]:
    """The option chosen in `■项目推进 □资源支持`, `紧急（√）`, `[x] 一般`, or `一般` alone."""
    segments = ticked(text, checked, unchecked)
    not_an_option = f"「{text}」不是可选项（可选：{'、'.join(spec.options)}）"
    if segments is None:
        chosen = _options_in(fold(text), spec)
        if not chosen:
            return None, not_an_option
        if len(chosen) == 1:
            return chosen[0], None
        return None, f"「{text}」列出了多项，请只保留一项或在所选项前打 ■"
    chosen = list(dict.fromkeys(o for segment in segments for o in _options_in(segment, spec)))
    if len(chosen) == 1:
        return chosen[0], None
    if not chosen:
        if segments or not _options_in(fold(text), spec):
            return None, not_an_option
        return None, f"「{text}」没有勾选任何一项（在所选项前打 ■ 或 √）"
    return None, f"「{text}」勾选了多项（{'、'.join(chosen)}），请只选一项"
