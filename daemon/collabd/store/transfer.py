"""`collabd store export` / `collabd store import`: a whole state moved between the
embedded store and PostgreSQL (either way), so that a company starts embedded and grows.

The export is JSON Lines: a header line; one line per stored value — the working set's
records, message index, outbox and meta, the archive's records and message entries, and
every journal message (waiting or set aside, raw bytes in base64, with its tries and
error); and a last line with the counts, so that a cut file is refused on import. The
lines of each table are in the store's order (records as the daemon scans them).

Import writes into an empty target only (a store that holds records, or a daemon
running on it, is refused) and commits in chunks; the meta, which carries the id
counters and the message counts, last.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from collabd.errors import CollabdError

FORMAT = "collabd-state"
VERSION = 1
WORKING = ("records", "messages", "outbox", "meta")
ARCHIVE = ("archive", "archived_messages")
CHUNK = 500
JOURNAL_STATES = ("in", "taken", "shunt", "bad", "dropped")


class TransferError(CollabdError):
    pass


def export_lines(parts: Any, *, source: str) -> Iterator[dict[str, Any]]:
    """Every line of an export of the opened state `parts` (backend.Parts)."""
    yield {"format": FORMAT, "version": VERSION, "source": source,
           "exported": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    counts: dict[str, int] = {}
    for table in WORKING:
        items = parts.store.items(table)
        if table == "meta":  # (keyed settings: their order means nothing, and differs)
            items = iter(sorted(items))
        for key, value in items:
            counts[table] = counts.get(table, 0) + 1
            yield {"t": table, "k": key, "v": value}
    for table in ARCHIVE:
        for key, value in parts.archive.items(table):
            counts[table] = counts.get(table, 0) + 1
            yield {"t": table, "k": key, "v": value}
    for entry in parts.journal.export_entries():
        counts["journal"] = counts.get("journal", 0) + 1
        yield {"t": "journal", "name": entry["name"], "state": entry["state"],
               "tries": entry["tries"], "error": entry.get("error") or "",
               "raw": base64.b64encode(entry["raw"]).decode("ascii")}
    yield {"end": True, "counts": counts}


def write_export(parts: Any, out: IO[str], *, source: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for line in export_lines(parts, source=source):
        out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
        if line.get("end"):
            counts = line["counts"]
    return counts


def _write(parts: Any, path: Path) -> None:
    from collabd.store.state import Txn

    txn = Txn()
    meta: list[tuple[str, Any]] = []
    archived: list[dict[str, Any]] = []
    archived_messages: dict[str, dict[str, Any]] = {}

    def flush() -> None:
        nonlocal txn
        if txn.ops:
            parts.store.commit(txn)
        txn = Txn()

    for number, line in enumerate(read_export(path), start=2):
        try:
            table = line.get("t")
            if table == "meta":
                meta.append((str(line["k"]), line["v"]))
            elif table in WORKING:
                txn.put(table, str(line["k"]), line["v"])
                if len(txn.ops) >= CHUNK:
                    flush()
            elif table == "archive":
                if not isinstance(line["v"], dict) or not isinstance(line["v"].get("id"), str):
                    raise ValueError("an archived record without its id")
                archived.append(line["v"])
            elif table == "archived_messages":
                archived_messages[str(line["k"])] = line["v"]
            elif table == "journal":
                if line["state"] not in JOURNAL_STATES:
                    raise ValueError(f"a journal message in no known state ({line['state']!r})")
                parts.journal.restore(str(line["name"]), line["state"], int(line["tries"]),
                                      base64.b64decode(line["raw"], validate=True),
                                      line.get("error") or "")
        except (KeyError, TypeError, ValueError) as exc:
            where = ("nothing was imported" if hasattr(parts.store, "bulk") else
                     "what came before it was written: remove the state directory's db/ "
                     "and queue/ before importing again")
            raise TransferError(f"{path}:{number}: {exc!r}; {where}") from None
    flush()
    if archived or archived_messages:
        parts.archive.put_many(archived, archived_messages)
    # Last, on their own: the id counters, the cursors, and the message counts as the
    # source kept them (a commit that adds to the message index counts it anew).
    for key, value in meta:
        txn.put("meta", key, value)
    flush()


def read_export(path: Path) -> Iterator[dict[str, Any]]:
    """The lines of an export file, checked: its header first, and its end line with
    counts that match what came before (a truncated or altered file is refused before
    anything is written: the caller reads it through once with `check_export`)."""
    with path.open(encoding="utf-8") as fh:
        first = fh.readline()
        try:
            header = json.loads(first)
        except ValueError:
            header = None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise TransferError(f"{path}: not a collabd state export (no header line)")
        if int(header.get("version", 0)) > VERSION:
            raise TransferError(f"{path}: written by a newer collabd (export version "
                                f"{header.get('version')}); upgrade collabd to import it")
        for number, text in enumerate(fh, start=2):
            try:
                line = json.loads(text)
            except ValueError:
                raise TransferError(f"{path}:{number}: not a JSON line") from None
            yield line


def check_export(path: Path) -> dict[str, int]:
    """Read the whole file once: the counts, or TransferError when it is cut short."""
    seen: dict[str, int] = {}
    end: dict[str, Any] | None = None
    for line in read_export(path):
        if line.get("end"):
            end = line
            continue
        if end is not None:
            raise TransferError(f"{path}: lines after the end line")
        table = line.get("t")
        if table not in (*WORKING, *ARCHIVE, "journal"):
            raise TransferError(f"{path}: a line of unknown table {table!r}")
        seen[str(table)] = seen.get(str(table), 0) + 1
    if end is None:
        raise TransferError(f"{path}: the file ends before its end line (cut short?); "
                            "nothing was imported")
    if end.get("counts") != seen:
        raise TransferError(f"{path}: the end line counts {end.get('counts')}, the file "
                            f"holds {seen}; nothing was imported")
    return seen


def import_into(parts: Any, path: Path) -> dict[str, int]:
    """Write an export into the empty, opened (writable) state `parts`. On PostgreSQL
    all or nothing; on the embedded store a failure leaves what was written (the error
    says so: remove the state directory's db/ and queue/ and import again)."""
    counts = check_export(path)
    held = (parts.store.count("records") + parts.store.count("messages")
            + parts.store.count("outbox") + sum(parts.journal.counts().values())
            + sum(1 for _ in parts.archive.items("archive")))
    if held:
        raise TransferError("the target already holds a state (records, messages, mail to "
                            "send, a journal or an archive); import only into an empty one")
    bulk = getattr(parts.store, "bulk", None)  # (PostgreSQL: all or nothing)
    with bulk() if bulk is not None else contextlib.nullcontext():
        _write(parts, path)
    parts.store.sync()
    analyze = getattr(parts.store, "analyze", None)
    if analyze is not None:
        analyze()  # (PostgreSQL: statistics for what was just loaded)
    return counts
