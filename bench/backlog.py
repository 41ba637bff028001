"""A backlog at start: how fast it drains, when the first acknowledgement leaves, the
longest tick, peak memory.

--local (the only mode so far): N request forms are put into the embedded backend's
Maildir inbox before the daemon starts; the daemon's real loop then runs (in this
process, on a fixed clock in working hours) until every message is processed and
every reply sent. Prints one JSON line: {"bench": "backlog", "messages", "drain_per_s",
"first_ack_s", "longest_tick_s", "passes", "peak_rss_mb"}. Never passes or fails.

Run: python bench/backlog.py --local [-n 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collabd.app import Daemon
from collabd.clock import FixedClock
from collabd.config import load_config
from collabd.deployment import init_deployment
from intake import NOW, TZ, request_message


def run_local(count: int) -> dict[str, object]:
    root = Path(tempfile.mkdtemp(prefix="collabd-backlog-"))
    config = load_config(init_deployment(root / "deploy"))
    new = config.state_dir / "mail" / "inbox" / "new"
    new.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (new / f"{n:08d}.backlog").write_bytes(request_message(n))
    sent_dir = config.state_dir / "mail" / "sent" / "new"
    daemon = Daemon(config, FixedClock(NOW, TZ), listen=False)
    ticks: list[float] = []
    real_tick = daemon.tick

    def timed_tick() -> None:
        began = time.perf_counter()
        real_tick()
        ticks.append(time.perf_counter() - began)

    daemon.tick = timed_tick  # type: ignore[method-assign]
    start = time.perf_counter()
    daemon.start()
    loop = threading.Thread(target=daemon.run_forever, kwargs={"install_signals": False})
    loop.start()
    first_ack = None
    try:
        while True:
            # Polled cheaply and not too often: this thread shares the GIL with the daemon.
            time.sleep(0.2 if first_ack is not None else 0.02)
            sent = len(os.listdir(sent_dir)) if sent_dir.is_dir() else 0
            if first_ack is None and sent:
                first_ack = time.perf_counter() - start
            left = len(os.listdir(new)) + daemon.journal.counts()["waiting"]
            if not left and daemon.outbox.pending_count() == 0 and sent >= 2 * count:
                break
            if time.perf_counter() - start > 1800:
                raise RuntimeError("the backlog did not drain in 30 minutes")
        took = time.perf_counter() - start
    finally:
        daemon.request_stop()
        loop.join()
        daemon.close()
    return {"bench": "backlog", "backend": "local", "messages": count,
            "drain_per_s": round(count / took, 1), "seconds": round(took, 1),
            "first_ack_s": round(first_ack or -1, 2),
            "longest_tick_s": round(max(ticks, default=0.0), 3), "ticks": len(ticks),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--local", action="store_true", required=True,
                        help="the embedded backend (the Dovecot variant is not written yet)")
    parser.add_argument("-n", type=int, default=10_000)
    args = parser.parse_args()
    print(json.dumps(run_local(args.n)))


if __name__ == "__main__":
    main()
