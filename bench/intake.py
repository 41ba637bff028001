"""Intake against its floor, rule tick time, resident memory.

Each request goes the whole path: journal, parse, commit (intake_ms), then send on the
local backend and mark sent (full_ms), next to the floor measured in the same run:
stdlib parse + one fsync + one directory fsync of the message (floor_ms). Half the
messages arrive one at a time, half in batches as a busy mailbox delivers them (where
journal, log and sent marks share their flushes). Issue 13's goal: full path ≤ 3× the
floor, intake alone ≤ 2×.

Prints JSON lines; never passes or fails on a timing. Run: python bench/intake.py
"""

from __future__ import annotations

import argparse
import datetime as dt
import email
import email.policy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collabd.app import Daemon
from collabd.clock import FixedClock
from collabd.config import load_config
from collabd.deployment import init_deployment
from seed import seed_open_requests

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 1, 10, 0, tzinfo=TZ)


PEOPLE = [("张伟", "zhang.wei@example.com", "市场部"), ("孙丽", "sun.li@example.com", "研发部"),
          ("郑浩", "zheng.hao@example.com", "财务部"), ("何芳", "he.fang@example.com", "运营部")]
TYPES = ["■项目推进 □资源支持", "□项目推进 ■资源支持", "■问题解决", "■信息同步", "■其他"]
URGENCIES = ["一般", "紧急", "不急"]


def request_message(n: int) -> bytes:
    """A realistic request form, as Foxmail would send it (UTF-8, base64 body); the
    senders, departments, types and urgencies vary as real traffic does (some of them
    get a review meeting, per the shipped rules)."""
    name, address, dept = PEOPLE[n % 4]
    receiver_dept = PEOPLE[(n + 1) % 4][2]
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["From"] = f"{name} <{address}>"
    msg["To"] = "collab@example.com"
    msg["Subject"] = f"跨部门沟通需求表：第{n}号 数据看板开发"
    msg["Message-ID"] = f"<bench-{n}-{time.time_ns()}@example.com>"
    msg["Date"] = "Tue, 01 Dec 2026 10:00:00 +0800"
    msg.set_content(
        f"需求编号：\n发起部门：{dept}\n发起人：{name}\n接收部门：{receiver_dept}\n"
        f"需求类型：{TYPES[n % 5]}\n"
        "需求背景与目标：季度复盘需要统一的数据口径，减少手工汇总。\n"
        f"具体需求内容：开发销售数据看板第{n}期，按区域、产品线展示周度指标。\n"
        f"期望完成时间：2026年12月20日\n紧急程度：{URGENCIES[n % 3]}\n"
        "交付标准：看板上线并通过验收，数据与财务月报误差小于1%。\n",
        charset="utf-8", cte="base64",
    )
    return msg.as_bytes()


def floor_one(raw: bytes, directory: Path, name: str) -> None:
    """The floor the issue sets: stdlib parse of the message, then the message written
    to a file of its own with one fsync and one directory fsync (the least a durable
    intake of one message can cost)."""
    email.message_from_bytes(raw, policy=email.policy.default)
    fd = os.open(directory / name, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, raw)
    os.fsync(fd)
    os.close(fd)
    dir_fd = os.open(directory, os.O_RDONLY)
    os.fsync(dir_fd)
    os.close(dir_fd)


def intake(root: Path, count: int, records: int, batch: int) -> dict[str, object]:
    config = load_config(init_deployment(root / "deploy"))
    seed_open_requests(config.state_dir, records, NOW)
    daemon = Daemon(config, FixedClock(NOW, TZ), listen=False)
    daemon.start()
    try:
        messages = [request_message(n) for n in range(count)]
        floor_dir = root / "floor"
        floor_dir.mkdir()

        def timed(chunks: list[list[bytes]], tag: str) -> tuple[float, float, float]:
            """Seconds spent on the floor, on intake and on sending, over `chunks`. The
            floor and collabd are measured alternately, chunk by chunk, so that both see
            the same disk (fsync times drift by a factor of two over a minute)."""
            floor_s = intake_s = send_s = 0.0
            for number, chunk in enumerate(chunks):
                t0 = time.perf_counter()
                for index, raw in enumerate(chunk):
                    floor_one(raw, floor_dir, f"{tag}-{number}-{index}")
                t1 = time.perf_counter()
                daemon.journal.put_many(chunk)
                daemon.process_journal()
                t2 = time.perf_counter()
                daemon.outbox.send_due(daemon.mailbox)
                t3 = time.perf_counter()
                floor_s += t1 - t0
                intake_s += t2 - t1
                send_s += t3 - t2
            return floor_s, intake_s, send_s

        half = count // 2
        # One at a time, as mail trickles in; then as a busy mailbox delivers: fetched
        # `batch` at a time, processed, sent.
        floor_time, intake_time, send_time = timed([[m] for m in messages[:half]], "one")
        rest = messages[half:]
        batch_floor, batch_intake, batch_send = timed(
            [rest[i:i + batch] for i in range(0, len(rest), batch)], "batch")
        stored = daemon.store.count("records")

        # The ticks after the batch plan its review meetings, at most 50 a tick: they are
        # reported apart (how many, the longest); then the steady state.
        settling = []
        while daemon.agenda.due(NOW) and len(settling) < 1000:
            t0 = time.perf_counter()
            daemon.tick()
            settling.append((time.perf_counter() - t0) * 1000)
        tick_runs = []
        for _ in range(5):
            t0 = time.perf_counter()
            daemon.tick()
            tick_runs.append((time.perf_counter() - t0) * 1000)
        open_records = sum(1 for _ in daemon.view.open_records())
    finally:
        daemon.close()
    rest_count = count - half

    def figures(mode: str, n: int, floor_s: float, intake_s: float, send_s: float
                ) -> dict[str, object]:
        return {"bench": "intake", "mode": mode, "messages": n, "stored_records": records,
                "floor_ms": round(floor_s / n * 1000, 3),
                "intake_ms": round(intake_s / n * 1000, 3),
                "full_ms": round((intake_s + send_s) / n * 1000, 3),
                "intake_ratio": round(intake_s / floor_s, 2),
                "full_ratio": round((intake_s + send_s) / floor_s, 2),
                "full_per_s": round(n / (intake_s + send_s), 1)}

    return {
        "intake": figures("one at a time", half, floor_time, intake_time, send_time),
        "batched": {**figures(f"batches of {batch}", rest_count, batch_floor, batch_intake,
                              batch_send), "records_after": stored},
        "tick": {"bench": "tick", "open_records": open_records,
                 "ms": round(sorted(tick_runs)[len(tick_runs) // 2], 3),
                 "after_batch_ticks": len(settling),
                 "after_batch_longest_ms": round(max(settling, default=0.0), 1)},
        "config": str(config.path),
    }


def memory(config_path: str) -> dict[str, object]:
    """Resident memory of a fresh process that opens the state and runs one tick."""
    code = (
        "import sys, datetime as dt; from zoneinfo import ZoneInfo\n"
        "from collabd.app import Daemon; from collabd.clock import FixedClock\n"
        "from collabd.config import load_config\n"
        "c = load_config(__import__('pathlib').Path(sys.argv[1]))\n"
        "d = Daemon(c, FixedClock(dt.datetime(2026,12,1,10,tzinfo=ZoneInfo('Asia/Shanghai'))),"
        " listen=False)\n"
        "d.start(); d.tick()\n"
        "n = sum(1 for _ in d.view.open_records())\n"
        "rss = [l for l in open('/proc/self/status') if l.startswith('VmRSS')][0].split()[1]\n"
        "print(n, int(rss) / 1024)\n"
        "d.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code, config_path], capture_output=True,
                         text=True, check=True)
    n, rss = out.stdout.split()
    return {"bench": "memory", "open_records": int(n), "rss_mb": round(float(rss), 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=25,
                        help="messages per fetch in the second half (a busy mailbox)")
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collabd-bench-", dir=os.environ.get("TMPDIR")) as d:
        result = intake(Path(d), args.messages, args.records, args.batch)
        print(json.dumps(result["intake"], ensure_ascii=False), flush=True)
        print(json.dumps(result["batched"], ensure_ascii=False), flush=True)
        print(json.dumps(result["tick"], ensure_ascii=False), flush=True)
        print(json.dumps(memory(str(result["config"])), ensure_ascii=False), flush=True)


if __name__ == "__main__":
    main()
