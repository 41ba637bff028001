"""Seed a state directory with a year of a large company: open requests, their audit trails."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from collabd.clock import isoformat
from collabd.store import Store, Txn

DEPTS = [("市场部", "zhang.wei@example.com"), ("研发部", "zhao.qiang@example.com"),
         ("财务部", "wu.min@example.com"), ("运营部", "huang.lei@example.com")]


def request_record(n: int, now: dt.datetime) -> dict[str, object]:
    created = now - dt.timedelta(minutes=n % 2000)  # the last day and a half
    stamp = isoformat(created)
    req_dept, req_head = DEPTS[n % 4]
    rec_dept, rec_head = DEPTS[(n + 1) % 4]
    rid = f"XQ-2026-{n + 1:05d}" if n >= 9999 else f"XQ-2026-{n + 1:04d}"
    audit = [
        {"at": stamp, "what": "request received", "from": req_head},
        {"at": stamp, "what": "acknowledged", "to": req_head},
        {"at": stamp, "what": "receiver notified", "to": rec_head},
        {"at": isoformat(created + dt.timedelta(days=1)), "what": "reminder",
         "rule": "receiver_response", "step": 1, "to": rec_head},
        {"at": isoformat(created + dt.timedelta(days=2)), "what": "signed off",
         "by": req_head, "text": "确认"},
    ]
    return {
        "id": rid, "kind": "request", "schema": 1, "status": "open",
        "created": stamp, "updated": stamp,
        "title": f"第{n}号 数据看板开发",
        "fields": {
            "request_id": rid, "requester_dept": req_dept, "requester": req_head,
            "receiver_dept": rec_dept, "receiver": rec_head, "type": "项目推进",
            "background": "季度复盘需要统一的数据口径，减少手工汇总。",
            "content": f"开发销售数据看板第{n}期，按区域、产品线展示周度指标。",
            "due": "2026-12-20", "urgency": "一般",
            "acceptance": "看板上线并通过验收，数据误差小于1%。",
        },
        "response_due": isoformat(created + dt.timedelta(days=5)),
        "waiting_on": [rec_head],
        "audit": audit,
    }


def seed_open_requests(state_dir: Path, count: int, now: dt.datetime) -> None:
    store = Store(state_dir).open()
    try:
        txn = Txn()
        for n in range(count):
            record = request_record(n, now)
            txn.put("records", str(record["id"]), record)
            txn.put("messages", f"<seed-{n}@example.com>",
                    {"dir": "in", "record": record["id"], "kind": "request",
                     "at": record["created"]})
            if len(txn.ops) >= 1000:
                store.commit(txn)
                txn = Txn()
        if txn.ops:
            store.commit(txn)
        counter = {"value": count}
        final = Txn()
        final.put("meta", "seq:XQ:2026", counter)
        store.commit(final)
    finally:
        store.close()
