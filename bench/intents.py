"""How collabd reads sign-off replies labelled by people who never ran it.

tests/data/intents/*.jsonl: replies to a request to confirm minutes or accept a
deliverable, written as people write them and labelled confirm / reject / unclear before
any of them was run through collabd (dev.jsonl was looked at while the reader was
written; heldout.jsonl and heldout2.jsonl were measured once before anything was changed
for them — see PROVENANCE.md there). Prints one JSON line per set:

- false_confirms: replies that are not a clear confirmation, read as one (goal: 0);
- confirm_recall: clear confirmations read as confirm (goal: ≥ 0.90);
- reject_recall: clear rejections read as reject; reject_safe: read as reject or as
  unclear (asked back), never as confirm (goal: 1.0).

Run: python bench/intents.py
"""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

from collabd.clock import DEFAULT_TZ
from collabd.inbound.intent import classify
from collabd.policy.rules import load_rules
from collabd.resources import skeleton_dir

SETS = Path(__file__).resolve().parent.parent / "tests" / "data" / "intents"


def main() -> None:
    keywords = load_rules(skeleton_dir("rules"), tz=ZoneInfo(DEFAULT_TZ)).signoff.keywords
    for path in sorted(SETS.glob("*.jsonl")):
        counts = {"confirm": 0, "reject": 0, "unclear": 0}
        false_confirms = confirmed = rejected = reject_safe = 0
        wrong: list[str] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            label = case["label"]
            got = classify(case["text"], keywords).kind
            counts[label] += 1
            if label != "confirm" and got == "confirm":
                false_confirms += 1
                wrong.append(case["id"])
            if label == "confirm" and got == "confirm":
                confirmed += 1
            if label == "reject":
                rejected += got == "reject"
                reject_safe += got != "confirm"
        print(json.dumps({
            "set": path.name, "n": sum(counts.values()), **counts,
            "false_confirms": false_confirms,
            "confirm_recall": round(confirmed / max(counts["confirm"], 1), 3),
            "reject_recall": round(rejected / max(counts["reject"], 1), 3),
            "reject_safe": round(reject_safe / max(counts["reject"], 1), 3),
            "false_confirm_ids": wrong,
        }))


if __name__ == "__main__":
    main()
