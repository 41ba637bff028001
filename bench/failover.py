"""Failover under load: two daemons on one shared mailbox in a real Dovecot, their state
in one real PostgreSQL (throwaway servers, as the tests start them). A backlog is
put in the INBOX and topped up as it drains; the leader is SIGKILLed at a random moment
again and again, and restarted as a standby. Prints one JSON line:

  kills                 how many times the leader was killed
  takeover_s            kill → the standby holds the mailbox's lock (median, p95, max)
  serving_s             kill → the standby has started on the mailbox (median, p95, max)
  messages, drained_s   how many went through, how long it took, kills included
  per_s                 the rate
  exactly_once          every message one record, one acknowledgement, none left

Never passes or fails (the test asserts; this measures more kills than CI can).

Run: python bench/failover.py [--messages 300] [--kills 200] [--takeover 15] [--seed 18]
"""

from __future__ import annotations

import argparse
import json
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from failover_pair import Pair, assert_each_processed_once_and_acknowledged, request
from helpers import SHARED
from servers import Dovecot, Postgres, Submission


def _figures(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {"median": round(statistics.median(ordered), 3),
            "p95": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))], 3),
            "max": round(ordered[-1], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=300,
                        help="the backlog at the start (topped up while killing)")
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--takeover", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    dovecot = Dovecot().start()
    submission = Submission(dovecot).start()
    postgres = Postgres().start()
    with tempfile.TemporaryDirectory(prefix="collabd-failover-") as tmp:
        pair = Pair(Path(tmp), dovecot, submission, postgres, takeover=args.takeover)
        try:
            appended = args.messages
            dovecot.append(SHARED, [request(n) for n in range(appended)])
            began = time.monotonic()
            pair.start("a")
            pair.start("b")
            takeovers: list[float] = []
            serving: list[float] = []
            while len(takeovers) < args.kills:
                if appended - pair.processed() < 50:  # (never run dry while killing)
                    dovecot.append(SHARED, [request(n) for n in range(appended, appended + 100)])
                    appended += 100
                leader = pair.leader()
                if leader is None:
                    time.sleep(0.02)
                    continue
                other = "b" if leader == "a" else "a"
                time.sleep(rng.uniform(0.05, 1.0))  # a random moment of its work
                killed = pair.daemons[leader]
                started = pair.daemons[other].log().count("started on")
                killed.proc.send_signal(signal.SIGKILL)  # type: ignore[union-attr]
                moment = time.monotonic()
                killed.proc.wait(10)  # type: ignore[union-attr]
                while pair.leader() != other:
                    time.sleep(0.01)
                takeovers.append(time.monotonic() - moment)
                while pair.daemons[other].log().count("started on") == started:
                    time.sleep(0.01)
                serving.append(time.monotonic() - moment)
                pair.start(leader)  # back, as a standby
            assert_each_processed_once_and_acknowledged(pair, dovecot, appended,
                                                        timeout=600)
            drained = time.monotonic() - began
            print(json.dumps({"bench": "failover", "messages": appended,
                              "kills": len(takeovers),
                              "takeover_seconds_configured": args.takeover,
                              "takeover_s": _figures(takeovers) if takeovers else None,
                              "serving_s": _figures(serving) if serving else None,
                              "drained_s": round(drained, 1),
                              "per_s": round(appended / drained, 1),
                              "exactly_once": True}), flush=True)
        finally:
            pair.close()
            submission.close()
            dovecot.cleanup()
            postgres.close()


if __name__ == "__main__":
    main()
