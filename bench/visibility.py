"""What seeing the work costs as the store grows (issue 16): for 1k and 10k open
requests (shaped as intake writes them, cloned as bench/scale.py does), one JSON line:

  weekly_s      the 《跨部门协作进度台账》 for everyone: rows, changes, overdue, .xlsx
  problems_s    the 《问题台账》 and its .xlsx
  figures_s     the month's department figures, with the month before, and their .xlsx
  digest_s      the morning digest: every open record, a mail per person waited on
  digest_mails  how many mails it made
  board_s       the board's overview page, rendered (state already read)
  board_read_s  the board re-reading the committed state (what a page pays each
                `refresh_seconds`)

Each figure is the median of --runs runs. Never passes or fails.

Run: python bench/visibility.py [--sizes 1000,10000] [--runs 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collabd import figures, ledger
from collabd.app import load_policy
from collabd.config import load_config
from collabd.deployment import init_deployment
from collabd.workflow import digest
from collabd.workflow.engine import Identity, Workflow
from collabd.workflow.outcome import Outcome
from intake import TZ
from scale import _templates, populate


def _median(runs: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        began = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - began)
    return round(statistics.median(times), 3), result


def measure(root: Path, size: int, templates: Any, runs: int) -> dict[str, Any]:
    from collabd.web import pages
    from collabd.web.server import board_for

    config = load_config(init_deployment(root / f"s{size}"))
    populate(config, size, 0, templates)
    rules, tmpl = load_policy(config)
    # A Friday morning a week after the requests came in: many are overdue.
    now = dt.datetime(2026, 12, 11, 9, 5, tzinfo=TZ)
    board = board_for(config, rules, lambda: now)
    view = board.view()
    records = [dict(r) for r in view.records()]
    out: dict[str, Any] = {"open_records": size}

    def weekly() -> int:
        data = ledger.weekly(records, now, rules.calendar)
        return len(ledger.weekly_xlsx(data))

    def problems() -> int:
        return len(ledger.problems_xlsx(ledger.problems(records, now)))

    def month() -> int:
        data = figures.of_state(view, rules, now, figures.month(now))
        return len(figures.departments_xlsx(data))

    workflow = Workflow(rules, tmpl, Identity(config.settings.mailbox.address,
                                              config.settings.mailbox.display_name))

    def morning() -> int:
        result = Outcome()
        digest.on_tick(workflow.context(view, now), result)
        return len(result.drafts)

    def overview() -> int:
        data = pages.overview(view, rules, now, figures_data=board.figures(view))
        return len(board.render("index.html.j2", viewer="bench", **data))

    def reread() -> int:
        board._view = None
        return board.view().store.count("records")

    out["weekly_s"], _ = _median(runs, weekly)
    out["problems_s"], _ = _median(runs, problems)
    out["figures_s"], _ = _median(runs, month)
    out["digest_s"], out["digest_mails"] = _median(runs, morning)
    out["board_s"], _ = _median(runs, overview)
    out["board_read_s"], _ = _median(runs, reread)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        templates = _templates(root)
        for size in (int(s) for s in args.sizes.split(",")):
            print(json.dumps(measure(root, size, templates, args.runs)), flush=True)


if __name__ == "__main__":
    main()
