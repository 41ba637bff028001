"""The archive (归档): closed records, one TinyDB file per year, out of the working set."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from tinydb import Query
from tinydb.table import Document

from collabd.store.tinystore import AtomicJSONStorage, CollabdTinyDB

_YEAR = re.compile(r"-(\d{4})-")
TABLE = "records"


def _year_of(record_id: str) -> str:
    found = _YEAR.search(record_id)
    return found.group(1) if found else "other"


class Archive:
    """Records that are closed and old enough; read on demand, written in batches.

    Moving a record here is: write it into the archive file (atomic), then delete it
    from the working set in a store commit. A crash between the two leaves it in both
    places; the working copy wins on read and the next sweep simply archives it again.
    """

    def __init__(self, db_dir: Path) -> None:
        self.dir = db_dir / "archive"

    def _db(self, year: str) -> CollabdTinyDB:
        return CollabdTinyDB(self.dir / f"{year}.json", storage=AtomicJSONStorage,
                             backup_dir=self.dir / "backups", keep=2)

    def years(self) -> list[str]:
        if not self.dir.is_dir():
            return []
        return sorted(p.stem for p in self.dir.glob("*.json"))

    def put_many(self, records: Iterable[dict[str, Any]]) -> int:
        by_year: dict[str, list[dict[str, Any]]] = {}
        for record in records:
            by_year.setdefault(_year_of(record["id"]), []).append(record)
        for year, batch in by_year.items():
            self.dir.mkdir(parents=True, exist_ok=True)
            with self._db(year) as db:
                table = db.table(TABLE)
                ids = {r["id"] for r in batch}
                present = [doc.doc_id for doc in table.all() if doc.doc_id in ids]
                if present:
                    table.remove(doc_ids=present)
                table.insert_multiple(Document(r, doc_id=r["id"]) for r in batch)
        return sum(len(b) for b in by_year.values())

    def get(self, record_id: str) -> dict[str, Any] | None:
        path = self.dir / f"{_year_of(record_id)}.json"
        if not path.exists():
            return None
        with self._db(_year_of(record_id)) as db:
            doc = db.table(TABLE).get(doc_id=record_id)
        return dict(doc) if doc is not None else None

    def search(self, **equals: Any) -> Iterator[dict[str, Any]]:
        """Archived records whose top-level keys equal the given values."""
        q = Query()
        cond = None
        for key, value in equals.items():
            term = q[key] == value
            cond = term if cond is None else (cond & term)
        for year in self.years():
            with self._db(year) as db:
                table = db.table(TABLE)
                docs = table.all() if cond is None else table.search(cond)
            for doc in docs:
                yield dict(doc)
