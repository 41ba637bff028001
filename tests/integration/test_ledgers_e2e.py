"""The secretary's ledgers: the weekly 《跨部门协作进度台账》 and the 《问题台账》, mailed on
Friday afternoon (the whole to the secretary and the 组长, a department's view to its
head) and written on demand by `collabd report`."""

from __future__ import annotations

import datetime as dt
import io

import pytest

from helpers import Harness, body_text, collabd, finance_request, message

pytestmark = pytest.mark.integration

FORM = finance_request("2026-12-03")
PROBLEM = "问题标题：报表口径不一致\n涉及部门：研发部\n问题描述：口径不一致。\n严重程度：重要\n"


def _week(h: Harness) -> None:
    h.at("2026-12-01 10:05", message(sender="刘洋 <liu.yang@example.com>",
                                     subject="需求表：<script>alert(1)</script>折扣数据",
                                     body=FORM, message_id="<l-req@example.com>"))
    h.at("2026-12-01 10:10", message(sender="陈晨 <chen.chen@example.com>",
                                     subject="问题反馈单：报表口径", body=PROBLEM,
                                     message_id="<l-prob@example.com>"))


def _sheets(data: bytes) -> dict[str, list[list[object]]]:
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(data))
    return {s.title: [list(r) for r in s.iter_rows(values_only=True)] for s in book.worksheets}


def test_the_weekly_ledgers_go_out_on_friday_afternoon_once(h: Harness) -> None:
    _week(h)
    assert not [m for m in h.at("2026-12-04 15:50") if "进度台账" in str(m["Subject"])]
    sent = [m for m in h.at("2026-12-04 16:00") if "进度台账" in str(m["Subject"])]
    whole = next(m for m in sent if "li.jing" in str(m["To"]))
    assert "wang.jianguo" in str(whole["To"])  # the secretary and the 组长: everything
    assert str(whole["Subject"]).endswith("12月4日：逾期 0 项，风险 0 项")
    heads = sorted(str(m["To"]) for m in sent if m is not whole)
    assert heads == ["吴敏 <wu.min@example.com>", "张伟 <zhang.wei@example.com>",
                     "赵强 <zhao.qiang@example.com>"]  # 运营部 has nothing this week
    files = {p.get_filename(): p.get_content() for p in whole.iter_attachments()}
    assert sorted(files) == ["跨部门协作进度台账_20261204.xlsx", "问题台账_20261204.xlsx"]
    weekly = _sheets(files["跨部门协作进度台账_20261204.xlsx"])
    assert list(weekly) == ["需求", "任务", "项目"]
    assert weekly["需求"][0][:4] == ["编号", "需求名称", "发起部门", "接收部门"]
    assert weekly["需求"][1][0] == "XQ-2026-0001"
    assert weekly["需求"][1][5] == dt.datetime(2026, 12, 3)  # a date, not text
    problems = _sheets(files["问题台账_20261204.xlsx"])["问题台账"]
    assert problems[1][0] == "WT-2026-0001" and problems[1][2] == "重要"
    finance = next(m for m in sent if "wu.min" in str(m["To"]))
    assert "问题台账_财务部_20261204.xlsx" in [p.get_filename() for p in finance.iter_attachments()]
    assert not [m for m in h.at("2026-12-04 16:30") if "进度台账" in str(m["Subject"])]
    # A week later the request has gone unanswered past its response deadline (12-08):
    # overdue, with who holds it.
    later = [m for m in h.at("2026-12-11 16:00") if "进度台账" in str(m["Subject"])
             and "li.jing" in str(m["To"])]
    text = body_text(later[0])
    # overdue, of every kind: the unanswered request with who holds it, the problem not
    # handled in time, and its coordination meeting's minutes
    assert "逾期（3 项）" in text and "郑浩（财务部）" in text
    overdue = text[text.index("逾期（3 项）"):text.index("风险")]
    assert [line[2:13] for line in overdue.splitlines()[1:] if line.startswith("- ")] == [
        "HY-2026-000", "WT-2026-000", "XQ-2026-000"]


def test_report_writes_the_ledgers_on_demand_escaped(h: Harness) -> None:
    _week(h)
    h.daemon.store.checkpoint()
    out = h.config.path.parent / "ledgers"
    collabd("report", "weekly", "--at", "2026-12-11T16:00", "--out", str(out), config=h.config)
    collabd("report", "problems", "--at", "2026-12-04T16:00", "--dept", "研发",
            "--out", str(out), config=h.config)
    page = (out / "跨部门协作进度台账_20261211.html").read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page  # a title is data
    assert "逾期（2 项）" in page  # the request and the problem (no tick ran since)
    problems = (out / "问题台账_研发部_20261204.html").read_text(encoding="utf-8")
    assert "WT-2026-0001" in problems and "报表口径不一致" in problems
    import openpyxl

    sheet = openpyxl.load_workbook(out / "跨部门协作进度台账_20261211.xlsx")["需求"]
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref
    bad = collabd("report", "weekly", "--dept", "设计部", "--out", str(out), config=h.config,
                  check=False)
    assert bad.returncode != 0 and "设计部" in bad.stderr.decode()


def test_monthly_department_figures_go_to_the_leader_and_secretary(h: Harness) -> None:
    _week(h)  # 财务部 receives a request on 12-01 (due 12-03), never answers (by 12-08)
    h.at("2026-12-09 09:05")  # overdue: the ladder's notice to 财务部
    h.at("2026-12-10 09:05")  # a working day later: escalated to 财务部's head
    assert not [m for m in h.at("2027-01-04 09:00") if "绩效" in str(m["Subject"])]
    # 2027-01-04 is the first working day of January: December's figures
    sent = [m for m in h.at("2027-01-04 09:30") if "绩效" in str(m["Subject"])]
    assert len(sent) == 1 and str(sent[0]["Subject"]) == "《部门协作绩效》2026年12月"
    assert sorted(str(sent[0]["To"]).split(", ")) == [
        "李静 <li.jing@example.com>", "王建国 <wang.jianguo@example.com>"]
    text = body_text(sent[0])
    finance = text[text.index("【财务部】"):].split("【")[1]
    assert "按时响应率：0.0%（1 项）" in finance
    # missed: its response deadline and its delivery date (12-03); escalated: both, the
    # delivery's straight away (its earlier steps superseded), the response's a day later
    assert "逾期 2 次" in finance and "被升级 2 次" in finance
    files = {p.get_filename(): p.get_content() for p in sent[0].iter_attachments()}
    sheets = _sheets(files["部门协作绩效_202612.xlsx"])
    assert list(sheets) == ["本期 2026年12月", "上期 2026年11月", "明细"]
    assert ["财务部", "响应", "XQ-2026-0001"] in [r[:3] for r in sheets["明细"]]
    assert not [m for m in h.at("2027-01-04 11:00") if "绩效" in str(m["Subject"])]


def test_report_departments_on_demand(h: Harness) -> None:
    _week(h)
    h.at("2026-12-09 09:05")
    h.daemon.store.checkpoint()
    out = h.config.path.parent / "figures"
    collabd("report", "departments", "--at", "2027-01-10T10:00", "--out", str(out),
            config=h.config)
    page = (out / "部门协作绩效_202612.html").read_text(encoding="utf-8")
    assert "2026年12月" in page and "财务部" in page and "<script" not in page
    collabd("report", "departments", "--month", "2026-12", "--dept", "财务",
            "--at", "2026-12-15T10:00", "--out", str(out), config=h.config)
    # a month still running says so; one not yet begun is refused
    partial = (out / "部门协作绩效_财务部_202612.html").read_text(encoding="utf-8")
    assert "（截至 2026年12月15日（周二）10:00，本月尚未结束）" in partial
    ahead = collabd("report", "departments", "--month", "2027-02", "--at", "2027-01-10T10:00",
                    "--out", str(out), config=h.config, check=False)
    assert ahead.returncode != 0 and "has not begun" in ahead.stderr.decode()
    import openpyxl

    book = openpyxl.load_workbook(out / "部门协作绩效_财务部_202612.xlsx")
    rows = list(book["本期 2026年12月"].iter_rows(values_only=True))
    assert [r[0] for r in rows] == ["部门", "财务部"]
    bad = collabd("report", "departments", "--month", "2026-13", "--out", str(out),
                  config=h.config, check=False)
    assert bad.returncode != 0 and "YYYY-MM" in bad.stderr.decode()
