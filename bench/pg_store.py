"""The record store on PostgreSQL against the embedded one (issue 18), at a given size:
what a commit (a record, two message-index entries, an outbox entry) costs, and the
reads the tick and threading make. One JSON line per store:

  load_s          filling the store with N requests (and their index entries), in batches
  open_s          opening it again (the embedded store reads its files; PostgreSQL connects)
  commit_ms       one commit as intake makes it (median of 200)
  get_ms          one record by id (median of 1000)
  kind_ms         the keys of all requests (keys_of_kind; median of 20)
  group_ms        a record's message-index keys (group_keys; median of 1000)
  count_ms        the records counted (median of 20)

PostgreSQL runs from initdb on a loopback port (Debian's postgresql, as the tests start
it), fsync off as in the tests: the figures compare the stores' own costs, not disks.
Never passes or fails.

Run: python bench/pg_store.py [--size 10000]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from collabd.store import Store, Txn
from collabd.store.pg import PgStore
from servers import Postgres


def _median_ms(runs: int, work: Callable[[int], Any]) -> float:
    times = []
    for n in range(runs):
        began = time.perf_counter()
        work(n)
        times.append(time.perf_counter() - began)
    return round(statistics.median(times) * 1000, 3)


def _request(n: int) -> dict[str, Any]:
    return {"id": f"XQ-2026-{n:06d}", "kind": "request", "status": "open",
            "title": f"需求 {n}", "fields": {"内容": "导出去年同期各渠道折扣与毛利数据" * 4},
            "audit": [{"at": "2026-12-01T10:05:00+08:00", "what": "request received"}] * 3}


def _intake(n: int) -> Txn:
    txn = Txn()
    rid = f"XQ-2026-{n:06d}"
    txn.put("records", rid, _request(n))
    txn.put("messages", f"<in-{n}@bench>", {"dir": "in", "record": rid})
    txn.put("messages", f"<out-{n}@bench>", {"dir": "out", "record": rid, "to": ["a@b"]})
    txn.put("outbox", f"<out-{n}@bench>", {"raw": "x" * 2000, "attempts": 0})
    return txn


def measure(name: str, opener: Callable[[], Any], size: int) -> dict[str, Any]:
    store = opener()
    began = time.perf_counter()
    batch = Txn()
    for n in range(size):
        batch.ops += _intake(n).ops
        if len(batch.ops) >= 4000:
            store.commit(batch, sync=False)
            batch = Txn()
    store.commit(batch)
    load = time.perf_counter() - began
    store.close()
    began = time.perf_counter()
    store = opener()
    opened = time.perf_counter() - began
    out = {"store": name, "size": size, "load_s": round(load, 2), "open_s": round(opened, 3)}
    out["commit_ms"] = _median_ms(200, lambda n: store.commit(_intake(size + n)))
    out["get_ms"] = _median_ms(1000, lambda n: store.get("records", f"XQ-2026-{n:06d}"))
    out["kind_ms"] = _median_ms(20, lambda _: store.keys_of_kind("request"))
    out["group_ms"] = _median_ms(1000, lambda n: store.group_keys(f"XQ-2026-{n:06d}"))
    out["count_ms"] = _median_ms(20, lambda _: store.count("records"))
    store.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=10000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        print(json.dumps(measure("embedded", lambda: Store(state).open(), args.size)),
              flush=True)
    server = Postgres().start()
    try:
        print(json.dumps(measure("postgresql", lambda: PgStore(server.dsn, space="bench").open(),
                                 args.size)), flush=True)
    finally:
        server.close()


if __name__ == "__main__":
    main()
