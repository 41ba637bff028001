"""The board's overview on a large state: overdue first, and a section cut at a page's
worth with the total still told (the filters narrow it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any
from zoneinfo import ZoneInfo

from collabd.web import pages
from helpers import default_rules

TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 12, 10, 10, 0, tzinfo=TZ)


class View:
    def __init__(self, records: list[dict[str, Any]]) -> None:
        self._records = records

    def records(self) -> Iterator[dict[str, Any]]:
        return iter(self._records)


def request(n: int, *, due: str, dept: str = "财务部") -> dict[str, Any]:
    return {"id": f"XQ-2026-{n:04d}", "kind": "request", "status": "open",
            "title": f"需求{n}", "receiver_dept": dept, "requester_dept": "市场部",
            "response_due": due, "created": "2026-12-01T10:00:00+08:00", "audit": [],
            "waiting_people": [{"name": "郑浩", "address": "zheng.hao@example.com",
                                "dept": dept}]}


def test_a_long_section_is_cut_overdue_first_with_its_total() -> None:
    later = "2026-12-20T18:00:00+08:00"
    records = [request(n, due=later) for n in range(1, 251)]
    records.append(request(300, due="2026-12-08T18:00:00+08:00"))  # overdue
    data = pages.overview(View(records), default_rules(), NOW)
    assert data["totals"]["requests"] == 251
    assert len(data["requests"]) == pages.MAX_ROWS
    assert data["requests"][0]["record"]["id"] == "XQ-2026-0300"
    assert data["requests"][0]["summary"]["overdue"]


def test_filters_by_department_and_person() -> None:
    records = [request(1, due="2026-12-20T18:00:00+08:00"),
               request(2, due="2026-12-20T18:00:00+08:00", dept="研发部")]
    records[1]["waiting_people"] = [{"name": "孙丽", "address": "sun.li@example.com",
                                     "dept": "研发部"}]
    rules = default_rules()
    ids = [r["record"]["id"] for r in pages.overview(View(records), rules, NOW,
                                                    dept="研发部")["requests"]]
    assert ids == ["XQ-2026-0002"]
    ids = [r["record"]["id"] for r in pages.overview(View(records), rules, NOW,
                                                    person="郑浩")["requests"]]
    assert ids == ["XQ-2026-0001"]
    assert pages.overview(View(records), rules, NOW, kind="problem")["requests"] == []
