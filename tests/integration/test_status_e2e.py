"""`collabd status` says whom each open record waits for — by name and department, with
Chinese status labels — filters by person, department and kind, and judges what is
overdue by the daemon's own clock when the daemon runs on a fixed one."""

from __future__ import annotations

import json

import pytest

from collabd.config import Config
from helpers import DATA, DaemonProcess, Harness, collabd, reply_to

pytestmark = pytest.mark.integration



def _status(config: Config, *args: str) -> dict:  # type: ignore[type-arg]
    return json.loads(collabd("status", "--json", "--now", "2026-12-02T10:00", *args,
                              config=config).stdout)  # type: ignore[no-any-return]


def test_status_names_whom_each_record_waits_for_and_filters(h: Harness) -> None:
    h.at("2026-12-01 10:05", (DATA / "qqmail_numbered_request.eml").read_bytes())
    notify = h.sent("新的跨部门需求")
    # The receiver answers: the request is in progress, and waits on the receiving side.
    h.at("2026-12-01 11:00", reply_to(notify, sender="郑浩 <zheng.hao@example.com>",
                                      text="收到，已安排专人处理。"))
    h.daemon.store.checkpoint()
    [request] = _status(h.config)["open"]
    assert request["status"] == "in_progress"
    assert request["waiting_on"] == ["zheng.hao@example.com"]
    assert request["waiting_on_people"] == [
        {"address": "zheng.hao@example.com", "name": "郑浩", "dept": "财务部"}]
    text = collabd("status", "--now", "2026-12-02T10:00", config=h.config).stdout.decode()
    assert "XQ-2026-0001  需求 处理中" in text and "等待 郑浩（财务部）" in text
    shown = collabd("show", "XQ-2026-0001", config=h.config).stdout.decode()
    assert "等待：郑浩（财务部） <zheng.hao@example.com>" in shown
    # Filters: by person (name or address), department, kind (in English or Chinese).
    for args in (("--person", "郑浩"), ("--person", "zheng.hao@example.com"),
                 ("--dept", "财务部"), ("--dept", "财务"), ("--kind", "需求"),
                 ("--kind", "request")):
        assert [r["id"] for r in _status(h.config, *args)["open"]] == ["XQ-2026-0001"], args
    for args in (("--person", "张伟"), ("--dept", "研发部"), ("--kind", "会议")):
        assert _status(h.config, *args)["open"] == [], args
    assert _status(h.config, "--dept", "研发部")["filters"] == {"dept": "研发部"}
    # An unknown kind or department is an error, not an empty list that looks true.
    for args, said in ((("--kind", "bogus"), "--kind"), (("--dept", "不存在部"), "--dept")):
        bad = collabd("status", *args, config=h.config, check=False)
        assert bad.returncode == 2 and said in bad.stderr.decode(), args
    # Only what is overdue (the request is due 2026-12-15), and CSV for Excel.
    assert _status(h.config, "--overdue", "--now", "2026-12-02T10:00")["open"] == []
    late = _status(h.config, "--overdue", "--now", "2026-12-16T10:00")["open"]
    assert [r["id"] for r in late] == ["XQ-2026-0001"]
    table = collabd("status", "--csv", "--now", "2026-12-16T10:00", config=h.config).stdout
    assert table.startswith("\ufeff".encode())  # (Excel reads UTF-8 by its BOM)
    rows = table.decode("utf-8-sig").splitlines()
    assert rows[0] == "编号,类型,状态,名称,所属项目,期限,是否逾期,等待,升级"
    assert rows[1].startswith("XQ-2026-0001,需求,处理中,") and ",是,郑浩（财务部）," in rows[1]


def test_status_goes_by_the_clock_of_a_daemon_run_with_now(deployment: Config) -> None:
    daemon = DaemonProcess(deployment, "--now", "2027-01-04T10:00").start()
    try:
        data = json.loads(collabd("status", "--json", config=deployment).stdout)
        assert data["generated"] == "2027-01-04T10:00:00+08:00"
    finally:
        assert daemon.stop() == 0, daemon.log()
    data = json.loads(collabd("status", "--json", config=deployment).stdout)
    assert not data["generated"].startswith("2027-01-04T10:00")  # stopped: the wall clock
