"""Finding a form's fields in text: `标签：值` lines, pasted tables, .docx and .xlsx forms.

Every source is first turned into lines; a table row is one line of tab-separated
cells. A line that starts with a known label (after bullets or numbering) opens a
field; its value is what follows the separator, and the lines after it until the next
label, a blank line, or the start of a quoted original or signature.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from collabd.policy.schema import FormSpec
from collabd.textnorm import fold_mapped

# Bullets and numbering people put before labels: "1.", "一、", "(2)", "•", "**".
_BULLET = re.compile(
    r"^[\s\-*•·◆◇▪▶►>#\u2022\u25cf]*"
    r"(?:(?:\d{1,2}|[一二三四五六七八九十]{1,3})\s*[.、)）:]|[(（](?:\d{1,2}|[一二三四五六七八九十]{1,3})[)）])?"
    r"[\s*]*"
)
# Where the new text of a message ends and something else starts.
_STOP = re.compile(
    r"^\s*(?:--\s*$|—{2,}|_{8,}|-{5,}\s*(?:原始邮件|original message|邮件原件|转发邮件)|"
    r"-{3,}\s*(?:原始邮件|邮件原件)|发自我的|sent from my|>|在.{4,80}写道[:：]\s*$|"
    r"on .{4,120} wrote:\s*$|.{1,80}于\d{4}年.{1,40}写道[:：]\s*$)",
    re.IGNORECASE,
)
_EMPTY_VALUES = {"", "无", "/", "-", "--", "—", "n/a", "na", "none", "暂无", "待定", "(空)",
                 "请填写", "(请填写)", "(必填)", "(选填)", "xxx", "略"}


@dataclass
class LabelSet:
    """The labels of one form, compiled into one pattern (longest label first)."""

    spec: FormSpec
    pattern: re.Pattern[str] = field(init=False)
    by_label: dict[str, str] = field(init=False)

    def __post_init__(self) -> None:
        self.by_label = {}
        for name, labels in self.spec.labels.items():
            for label in labels:
                folded, _ = fold_mapped(label)
                folded = re.sub(r"\s+", "", folded)
                self.by_label.setdefault(folded, name)
        alternatives = sorted(self.by_label, key=len, reverse=True)
        spaced = ["\\s*".join(map(re.escape, label)) for label in alternatives]
        self.pattern = re.compile(
            r"(?:[\[【]\s*)?(?P<label>" + "|".join(spaced) + r")\s*"
            r"(?:\([^()]{0,16}\)\s*)?"  # "（必填）", "（年/月/日）"
            r"(?P<sep>[:\]】\t]|\s{2,}|$)"
        )

    def label_key(self, text: str) -> str:
        """Which label `text` (a label as written, with its separator) is."""
        folded, _ = fold_mapped(text)
        found = self.pattern.search(folded)
        return re.sub(r"\s+", "", found.group("label")) if found else folded

    def match(self, line: str) -> tuple[str, str] | None:
        """(field name, value on this line) if `line` opens a field."""
        folded, origin = fold_mapped(line)
        bullet = _BULLET.match(folded)
        start = bullet.end() if bullet else 0
        found = self.pattern.match(folded, start)
        if found is None:
            return None
        label = re.sub(r"\s+", "", found.group("label"))
        name = self.by_label[label]
        end = found.end()
        value = line[origin[end]:] if end < len(origin) else ""
        return name, value.strip().lstrip(":：]】").strip()


@dataclass
class FoundFields:
    values: dict[str, str]
    labels_seen: int  # how many label lines matched (a form, or a sentence?)


_SHORT = {"request_id", "requester_dept", "requester", "receiver_dept", "receiver", "type",
          "due", "urgency", "title", "reporter_dept", "reporter", "related_request",
          "target_dept", "severity", "filled_on", "phone"}


def find_fields(lines: Sequence[str], labels: LabelSet) -> FoundFields:
    values: dict[str, list[str]] = {}
    opened_by: dict[str, str] = {}  # field → the label text that opened it
    current: str | None = None
    seen = 0
    index = 0
    while index < len(lines):
        line = lines[index]
        if _STOP.match(line):
            break
        cells = line.split("\t")
        header = _header_row(cells, labels)
        if header is not None and index + 1 < len(lines):
            # A row of labels over a row of values (a sheet pasted from Excel).
            row = lines[index + 1].split("\t")
            if len(row) == len(header) and all(labels.match(c) is None for c in row):
                for name, value in zip(header, row, strict=True):
                    values.setdefault(name, []).append(value.strip())
                    seen += 1
                current = None
                index += 2
                continue
        matched_any = False
        for cell in cells:
            hit = labels.match(cell)
            if hit is not None:
                name, value = hit
                seen += 1
                matched_any = True
                current = name
                label = cell[: len(cell) - len(value)] if value else cell
                if name in values and "".join(values[name]).strip():
                    if opened_by.get(name) == labels.label_key(label):
                        current = None  # the same label again: the first answer stands
                        continue
                    # Another label of the same field (背景：… 目标：…): both belong.
                    values[name].append(cell.strip())
                    continue
                opened_by[name] = labels.label_key(label)
                values[name] = [value] if value else []
            elif current is not None and cell.strip():
                values.setdefault(current, []).append(cell.strip())
                if current in _SHORT and values[current]:
                    current = None
        if not matched_any and not line.strip() and current is not None and (
                values.get(current)):
            current = None  # a blank line ends a value
        index += 1
    return FoundFields(
        {name: clean_value("\n".join(parts)) for name, parts in values.items()},
        seen,
    )


def _header_row(cells: list[str], labels: LabelSet) -> list[str] | None:
    if len(cells) < 2:
        return None
    names = []
    for cell in cells:
        hit = labels.match(cell)
        if hit is None or hit[1]:
            return None
        names.append(hit[0])
    return names


# A blank form's own hint left in place: "（留空，由系统分配）", "（如 2026-12-10）",
# "（请填写）" — the whole value in brackets, saying how to fill it in.
_PLACEHOLDER = re.compile(r"^[(\[【［]\s*(?:如|例如|示例|留空|请填写|请选择|选填|必填|可选|由系统)"
                          r"[^()\[\]【】［］]*[)\]】］]$")


def clean_value(value: str) -> str:
    """A field's value, with a blank form's own hints and 无/待定/— as no value."""
    lines = [" ".join(line.split()) for line in value.strip().splitlines()]
    text = "\n".join(line for line in lines if line)
    folded = unicodedata.normalize("NFKC", text).strip().casefold()
    if folded in _EMPTY_VALUES or _PLACEHOLDER.match(folded):
        return ""
    return text


# -- attachments ------------------------------------------------------------------------------

class UnreadableAttachment(Exception):
    pass


# An Office file is a zip archive: what it holds is checked before anything inflates
# it. A form is a few hundred KB of XML; these bounds leave room for pictures in it.
MAX_UNZIPPED_BYTES = 40 * 1024 * 1024
MAX_XML_BYTES = 8 * 1024 * 1024
MAX_ZIP_ENTRIES = 1000
MAX_RATIO = 200  # a zip bomb inflates thousands of times; real documents tens of times
MAX_LINES = 5000  # paragraphs, table rows, sheet rows read from one attachment
MAX_SHEETS = 10
MAX_COLUMNS = 60


def _check_archive(data: bytes, kind: str) -> None:
    """Refuse an archive that would inflate beyond the bounds (a zip bomb), before
    python-docx or openpyxl read it whole into memory."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise UnreadableAttachment(f"not a readable {kind} ({exc})") from None
    if len(entries) > MAX_ZIP_ENTRIES:
        raise UnreadableAttachment(f"{kind} holds {len(entries)} files (at most "
                                   f"{MAX_ZIP_ENTRIES} are read)")
    total = sum(e.file_size for e in entries)
    xml = sum(e.file_size for e in entries if e.filename.lower().endswith((".xml", ".rels")))
    packed = sum(e.compress_size for e in entries) or 1
    if total > MAX_UNZIPPED_BYTES or xml > MAX_XML_BYTES or (
            xml > 1024 * 1024 and total / packed > MAX_RATIO):
        raise UnreadableAttachment(
            f"{kind} inflates to {total // (1024 * 1024)} MB ({xml // (1024 * 1024)} MB of "
            f"XML): too large to read")


def _trimmed(cells: list[str], keep_empty: bool) -> list[str]:
    """A row's cells: the non-empty ones (a form: label, value), or all of them up to
    the last non-empty one (a table whose columns must stay where they are)."""
    if not keep_empty:
        return [c for c in cells if c]
    while cells and not cells[-1]:
        cells = cells[:-1]
    return cells


def docx_lines(data: bytes, *, keep_empty: bool = False) -> list[str]:
    """Paragraphs and table rows of a .docx, in document order (`keep_empty`: a table
    row keeps its empty cells, so that each value stays under its heading)."""
    import docx  # python-docx; imported here to keep start-up light
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    _check_archive(data, ".docx")
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:
        raise UnreadableAttachment(f"not a readable .docx ({exc})") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if len(lines) >= MAX_LINES:
            break
        if isinstance(block, Paragraph):
            lines.append(block.text)
        elif isinstance(block, Table):
            lines.extend(_table_lines(block, keep_empty))
            lines.append("")  # what follows a table is not part of its last cell
    return lines


def _table_lines(table: object, keep_empty: bool = False) -> list[str]:
    lines = []
    for row in table.rows:  # type: ignore[attr-defined]
        texts: list[str] = []
        previous = None
        for cell in row.cells:
            # Merged cells come back once per grid column: keep each cell once.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            text = "\n".join(p.text.strip() for p in cell.paragraphs if p.text.strip())
            texts.append(text.replace("\n", " ") if text else "")
        cells = _trimmed(texts, keep_empty)
        if cells:
            lines.append("\t".join(cells))
    return lines


def xlsx_lines(data: bytes, *, keep_empty: bool = False) -> list[str]:
    """Each non-empty row of each sheet as tab-separated cells (`keep_empty`: with its
    empty cells, up to the last non-empty one)."""
    import openpyxl

    _check_archive(data, ".xlsx")
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:
        raise UnreadableAttachment(f"not a readable .xlsx ({exc})") from None
    lines: list[str] = []
    try:
        for sheet in book.worksheets[:MAX_SHEETS]:
            # A form is a few dozen rows: the rest of a sheet of 500,000 is not read.
            for row in sheet.iter_rows(values_only=True, max_row=MAX_LINES,
                                       max_col=MAX_COLUMNS):
                cells = _trimmed(["" if v is None else _cell(v) for v in row], keep_empty)
                if cells:
                    lines.append("\t".join(cells))
            lines.append("")
    except Exception as exc:
        raise UnreadableAttachment(f"not a readable .xlsx ({exc})") from None
    finally:
        book.close()
    return lines


def _cell(value: object) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip()


FORM_EXTENSIONS = (".docx", ".xlsx")
LEGACY_EXTENSIONS = (".doc", ".xls", ".wps", ".et", ".pdf")


def attachment_lines(filename: str, data: bytes, *,
                     keep_empty: bool = False) -> list[str] | None:
    lower = filename.lower()
    if lower.endswith(".docx"):
        return docx_lines(data, keep_empty=keep_empty)
    if lower.endswith(".xlsx"):
        return xlsx_lines(data, keep_empty=keep_empty)
    return None


def text_lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def any_label(lines: Iterable[str], labels: LabelSet) -> bool:
    return any(labels.match(c) for line in lines for c in line.split("\t"))
