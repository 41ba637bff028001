"""Closed records leave the working set for the archive (归档) and can still be read."""

from __future__ import annotations

import datetime as dt

from collabd.config import Config
from collabd.workflow.outcome import Outcome, new_record
from helpers import at, collabd, daemon_at


def test_closed_records_are_archived_and_still_shown(deployment: Config) -> None:
    daemon = daemon_at(deployment, at("2026-12-01 10:00"))
    try:
        now = daemon.clock.now()
        closed = new_record("request", "XQ-2026-0001", now, status="closed",
                            closed=now.isoformat(), title="已验收的需求")
        still_open = new_record("request", "XQ-2026-0002", now, status="open", title="进行中")
        daemon.commit(Outcome(records=[closed, still_open]))
        daemon.tick()
        assert daemon.store.get("records", "XQ-2026-0001") is not None  # not old enough yet
        daemon.clock.advance(dt.timedelta(days=31))  # type: ignore[attr-defined]
        daemon.tick()
        assert daemon.store.get("records", "XQ-2026-0001") is None
        assert daemon.store.get("records", "XQ-2026-0002") is not None
        assert daemon.view.record("XQ-2026-0001")["title"] == "已验收的需求"  # type: ignore[index]
        assert [r["id"] for r in daemon.archive.search(status="closed")] == ["XQ-2026-0001"]
    finally:
        daemon.close()
    shown = collabd("show", "XQ-2026-0001", config=deployment)
    assert "[archived]" in shown.stdout.decode()
    assert "已验收的需求" in shown.stdout.decode()
