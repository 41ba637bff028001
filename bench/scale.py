"""How collabd's costs grow with the store: 1k, 10k, 100k open records, 100k archived.

The records are shaped exactly as intake writes them: a few dozen real request forms
go through the daemon, and their records and message-index entries are cloned under
new ids up to the size measured. For each size, one JSON line:

  load_s            a fresh process opening the state and starting the daemon
  rss_mb            that process's resident memory after its first tick
  intake_ms         one request through journal, parse, commit, send (mean of 100)
  tick_ms           the steady rule tick (median of 5)
  after_batch_*     the ticks after 1,000 requests arrive at once: how many, the longest
  status_s, show_s  `collabd status --json` and `collabd show ID` (median of 3)
  checkpoint_s      writing the table files (the daemon's periodic checkpoint, in a
                    thread), and checkpoint_pause_ms: what the daemon's loop waits for it

and for 100k archived (with 1k open, and their message index archived with them):
archiving one record by the sweep, looking one up, looking up an archived message by
its id and one never seen (the duplicate check of every new message), and `collabd
show` of an archived one. Never passes or fails.

The commands are timed as installed: collabd's modules byte-compiled first (pip does
that when it installs collabd; a checkout run with PYTHONDONTWRITEBYTECODE, as on
these machines, would otherwise compile every module on every command, ≈ 15 ms).

With --postgresql the same is measured with the state in PostgreSQL (`store:
postgresql`; a throwaway server from initdb, as the tests start it): the checkpoint
figures then do not apply.

Run: python bench/scale.py [--sizes 1000,10000,100000] [--archived 100000] [--postgresql]
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import orjson

import collabd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collabd.app import Daemon
from collabd.clock import FixedClock
from collabd.config import Config, load_config
from collabd.deployment import init_deployment
from collabd.store import Txn
from collabd.store.backend import daemon_parts
from intake import NOW, TZ, request_message

TEMPLATES = 40
BIN = Path(sys.executable).parent
PG: list[Any] = []  # the PostgreSQL server, with --postgresql


def deployment(root: Path) -> Config:
    """A fresh deployment; with --postgresql, its state in a space of its own."""
    config = load_config(init_deployment(root))
    if PG:
        with config.path.open("a", encoding="utf-8") as fh:
            fh.write(f"store: postgresql\npostgresql:\n  dsn: \"{PG[0].dsn}\"\n"
                     f"  space: {root.name}-{os.getpid()}\n")
        config = load_config(config.path)
    return config


def _templates(root: Path) -> tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]:
    """Request records and message-index entries as the real intake writes them."""
    config = load_config(init_deployment(root / "templates"))
    daemon = Daemon(config, FixedClock(NOW, TZ), listen=False)
    daemon.start()
    try:
        for n in range(TEMPLATES):
            daemon.journal.put(request_message(n))
        daemon.process_journal()
        # Left out: requests whose review meeting is still to be planned. A store of
        # 100,000 open requests has planned its meetings long ago; planning is measured
        # by the batch of 1,000 that arrive at once.
        records = [r for r in daemon.store.values("records") if r.get("kind") == "request"
                   and (r.get("review") or {}).get("status") != "pending"]
        messages = list(daemon.store.items("messages"))
    finally:
        daemon.close()
    return records, messages


def _clone(template: dict[str, Any], old_id: str, new_id: str, **changes: Any) -> Any:
    data = orjson.dumps(template).replace(old_id.encode(), new_id.encode())
    return {**orjson.loads(data), **changes}


def populate(config: Config, open_count: int, archived: int,
             templates: tuple[list[dict[str, Any]], list[tuple[str, dict[str, Any]]]]) -> None:
    records, messages = templates
    by_record: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for mid, entry in messages:
        by_record.setdefault(str(entry.get("record")), []).append((mid, entry))
    parts = daemon_parts(config)
    store = parts.store.open()
    try:
        txn = Txn()
        for n in range(open_count):
            template = records[n % len(records)]
            new_id = f"XQ-2026-{n + 1:06d}"
            txn.put("records", new_id, _clone(template, template["id"], new_id))
            for mid, entry in by_record.get(template["id"], []):
                txn.put("messages", mid.replace("@", f".{n}@", 1),
                        _clone(entry, template["id"], new_id))
            if len(txn.ops) >= 2000:
                store.commit(txn, sync=False)
                txn = Txn()
        counter = Txn()
        counter.put("meta", "seq:XQ:2026", {"value": open_count + archived + 10})
        store.commit(txn)
        store.commit(counter)
    finally:
        store.close()
    if archived:
        closed = NOW - dt.timedelta(days=60)
        archive = daemon_parts(config).archive
        if PG:
            archive.store.open()
        batch = []
        entries: dict[str, Any] = {}
        for n in range(archived):
            template = records[n % len(records)]
            new_id = f"XQ-2025-{n + 1:06d}"
            batch.append(_clone(template, template["id"], new_id, status="closed",
                                closed=closed.isoformat()))
            for mid, entry in by_record.get(template["id"], []):
                entries[mid.replace("@", f".a{n}@", 1)] = _clone(entry, template["id"], new_id)
            if len(batch) >= 5000:
                archive.put_many(batch, entries)
                batch, entries = [], {}
        archive.put_many(batch, entries)
        if PG:
            archive.store.close()
    if PG:
        # What `collabd store import` ends with, and autovacuum soon does for a state that
        # grew by itself: statistics for the new rows (else the first minutes after a
        # bulk load measure autovacuum's work).
        store = daemon_parts(config).store.open()
        store.analyze()
        store.close()


def _wall(args: list[str], config: Config, runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run([str(BIN / "collabd"), *args], check=True, capture_output=True,
                       env={**os.environ, "COLLABD_CONFIG": str(config.path)})
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def _fresh_process(config: Config) -> tuple[float, float]:
    code = (
        "import sys, time, datetime as dt; from zoneinfo import ZoneInfo\n"
        "t = time.perf_counter()\n"
        "from collabd.app import Daemon; from collabd.clock import FixedClock\n"
        "from collabd.config import load_config\n"
        "c = load_config(__import__('pathlib').Path(sys.argv[1]))\n"
        "d = Daemon(c, FixedClock(dt.datetime(2026,12,1,10,tzinfo=ZoneInfo('Asia/Shanghai'))),"
        " listen=False)\n"
        "d.start(); took = time.perf_counter() - t; d.tick()\n"
        "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]\n"
        "print(took, int(rss) / 1024)\n"
        "d.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(config.path)], check=True,
                         capture_output=True, text=True)
    took, rss = out.stdout.split()
    return float(took), float(rss)


def settle(daemon: Daemon) -> None:
    """Not timed: the ticks that plan what the cloned records call for (review meetings
    for a fifth of them), and sending all it queued, so what follows is steady state."""
    while daemon.agenda.due(NOW):
        daemon.tick()
    while daemon.outbox.pending_count():
        daemon.outbox.send_due(daemon.mailbox)


def measure_open(root: Path, size: int, templates: Any) -> dict[str, Any]:
    config = deployment(root / f"open-{size}")
    populate(config, size, 0, templates)
    load_s, rss = _fresh_process(config)
    daemon = Daemon(config, FixedClock(NOW, TZ), listen=False)
    daemon.start()
    try:
        settle(daemon)
        intake = []
        for n in range(100):
            raw = request_message(10_000 + n)
            began = time.perf_counter()
            daemon.journal.put(raw)
            daemon.process_journal()
            daemon.outbox.send_due(daemon.mailbox)
            intake.append(time.perf_counter() - began)
        settle(daemon)
        ticks = []
        for _ in range(5):
            began = time.perf_counter()
            daemon.tick()
            ticks.append(time.perf_counter() - began)
        for n in range(1000):
            daemon.journal.put(request_message(20_000 + n))
        daemon.process_journal()
        after = []
        while daemon.agenda.due(NOW) and len(after) < 1000:
            began = time.perf_counter()
            daemon.tick()
            after.append(time.perf_counter() - began)
        checkpoint_s = pause = 0.0
        if not PG:  # (PostgreSQL keeps its own)
            began = time.perf_counter()
            daemon.store.checkpoint(force=True, background=True)
            pause = time.perf_counter() - began  # what the daemon's loop waits
            daemon.store.finish_checkpoint()
            checkpoint_s = time.perf_counter() - began
    finally:
        daemon.close()
    return {"bench": "scale", "store": "postgresql" if PG else "embedded",
            "open_records": size, "load_s": round(load_s, 2),
            "rss_mb": round(rss), "intake_ms": round(statistics.mean(intake) * 1000, 2),
            "tick_ms": round(statistics.median(ticks) * 1000, 3),
            "after_batch_ticks": len(after),
            "after_batch_longest_s": round(max(after, default=0.0), 3),
            "status_s": round(_wall(["status", "--json"], config), 3),
            "show_s": round(_wall(["show", "XQ-2026-000001"], config), 3),
            "checkpoint_s": round(checkpoint_s, 2),
            "checkpoint_pause_ms": round(pause * 1000, 1)}


def measure_archived(root: Path, archived: int, templates: Any) -> dict[str, Any]:
    config = deployment(root / f"archived-{archived}")
    populate(config, 1000, archived, templates)
    daemon = Daemon(config, FixedClock(NOW, TZ), listen=False)
    daemon.start()
    try:
        record = dict(daemon.store.get("records", "XQ-2026-000001") or {})
        record.update(status="closed", closed=(NOW - dt.timedelta(days=60)).isoformat())
        txn = Txn()
        txn.put("records", record["id"], record)
        daemon.store.commit(txn)
        daemon.to_archive.set(record["id"], NOW - dt.timedelta(days=1))
        began = time.perf_counter()
        moved = daemon.archive_closed(NOW)
        sweep = time.perf_counter() - began
        lookups = []
        for n in (7, archived // 2 + 7, archived - 3):
            began = time.perf_counter()
            found = daemon.archive.get(f"XQ-2025-{n:06d}")
            lookups.append(time.perf_counter() - began)
            assert found is not None
        # A message of an archived record, by its id (a late reply); and one never seen
        # (what every new inbound message costs: the duplicate check).
        archived_mid = next(iter(daemon.archive.messages_of(f"XQ-2025-{archived // 2:06d}")))
        began = time.perf_counter()
        assert daemon.view.message(archived_mid) is not None
        message_hit = time.perf_counter() - began
        misses = []
        for n in range(20):
            began = time.perf_counter()
            assert daemon.view.message(f"<never-{n}@example.com>") is None
            misses.append(time.perf_counter() - began)
    finally:
        daemon.close()
    return {"bench": "scale", "store": "postgresql" if PG else "embedded",
            "archived_records": archived, "open_records": 1000,
            "sweep_one_ms": round(sweep * 1000, 1), "moved": moved,
            "lookup_ms": round(statistics.median(lookups) * 1000, 2),
            "message_lookup_ms": round(message_hit * 1000, 2),
            "unknown_message_ms": round(statistics.median(misses) * 1000, 3),
            "show_archived_s": round(
                _wall(["show", f"XQ-2025-{archived // 2 + 7:06d}"], config), 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--archived", type=int, default=100_000)
    parser.add_argument("--postgresql", action="store_true",
                        help="the state in PostgreSQL (a throwaway server from initdb)")
    args = parser.parse_args()
    compileall.compile_dir(Path(collabd.__file__).parent, quiet=1)
    if args.postgresql:
        sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
        from servers import Postgres

        PG.append(Postgres().start())
    try:
        run(args)
    finally:
        if PG:
            PG[0].close()


def run(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="collabd-scale-",
                                     dir=os.environ.get("TMPDIR")) as tmp:
        root = Path(tmp)
        templates = _templates(root)
        for size in (int(s) for s in args.sizes.split(",") if s):
            print(json.dumps(measure_open(root, size, templates)), flush=True)
        if args.archived:
            print(json.dumps(measure_archived(root, args.archived, templates)), flush=True)


if __name__ == "__main__":
    main()
