"""The archive (归档): closed records out of the working set, in files of 1,000.

A record's file follows from its id: XQ-2026-12345 lives in `archive/XQ-2026/0012.json`
with XQ-2026-12000 … XQ-2026-12999. Archiving rewrites only the files of the records
it moves (at most 1,000 records each), and reading one record reads one such file: both
cost the same at 100 archived records as at 100,000. Archives written by earlier
versions (`archive/<year>.json`, a whole year in one file) are still read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tinydb import Query
from tinydb.table import Document

from collabd.store.tinystore import AtomicJSONStorage, CollabdTinyDB

_YEAR = re.compile(r"-(\d{4})-")
_ID = re.compile(r"^([A-Z]{2,4})-(\d{4})-(\d{1,9})$")
TABLE = "records"
PER_FILE = 1000


def _year_of(record_id: str) -> str:
    found = _YEAR.search(record_id)
    return found.group(1) if found else "other"


def chunk_of(record_id: str) -> str:
    """The archive file (relative, without .json) a record belongs in."""
    found = _ID.match(record_id)
    if found is None:
        return "other/0000"
    prefix, year, number = found.groups()
    return f"{prefix}-{year}/{int(number) // PER_FILE:04d}"


class Archive:
    """Records that are closed and old enough; read on demand, written in batches.

    Moving a record here is: write it into its archive file (atomic), then delete it
    from the working set in a store commit. A crash between the two leaves it in both
    places; the working copy wins on read and the next sweep simply archives it again.
    """

    def __init__(self, db_dir: Path) -> None:
        self.dir = db_dir / "archive"

    def _db(self, name: str) -> CollabdTinyDB:
        path = self.dir / f"{name}.json"
        return CollabdTinyDB(path, storage=AtomicJSONStorage,
                             backup_dir=path.parent / "backups", keep=2)

    def files(self) -> list[str]:
        """Every archive file, as names for `_db` (legacy year files first)."""
        if not self.dir.is_dir():
            return []
        legacy = sorted(p.stem for p in self.dir.glob("*.json"))
        chunks = sorted(f"{p.parent.name}/{p.stem}" for p in self.dir.glob("*/*.json")
                        if p.parent.name != "backups")
        return legacy + chunks

    def put_many(self, records: Iterable[dict[str, Any]]) -> int:
        by_file: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_file.setdefault(chunk_of(record["id"]), []).append(record)
        for name, batch in by_file.items():
            (self.dir / name).parent.mkdir(parents=True, exist_ok=True)
            with self._db(name) as db:
                table = db.table(TABLE)
                ids = {r["id"] for r in batch}
                present = [doc.doc_id for doc in table.all() if doc.doc_id in ids]
                if present:
                    table.remove(doc_ids=present)
                table.insert_multiple(Document(r, doc_id=r["id"]) for r in batch)
        return sum(len(b) for b in by_file.values())

    def get(self, record_id: str) -> dict[str, Any] | None:
        for name in (chunk_of(record_id), _year_of(record_id)):  # then a legacy year file
            if not (self.dir / f"{name}.json").exists():
                continue
            with self._db(name) as db:
                doc = db.table(TABLE).get(doc_id=record_id)
            if doc is not None:
                return dict(doc)
        return None

    def search(self, **equals: Any) -> Iterator[dict[str, Any]]:
        """Archived records whose top-level keys equal the given values."""
        q = Query()
        cond = None
        for key, value in equals.items():
            term = q[key] == value
            cond = term if cond is None else (cond & term)
        for name in self.files():
            with self._db(name) as db:
                table = db.table(TABLE)
                docs = table.all() if cond is None else table.search(cond)
            for doc in docs:
                yield dict(doc)
