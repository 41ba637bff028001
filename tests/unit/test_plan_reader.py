"""A project plan's tables as people fill them: meeting times written every way, and
mistakes reported once each, naming what is wrong."""

from __future__ import annotations

import datetime as dt

import pytest

from collabd.inbound.plan import PlanReader
from helpers import default_rules

TODAY = dt.date(2026, 12, 1)
TASKS = ("任务名称\t负责部门\t负责人\t计划开始\t计划完成\t市场部\t研发部\t法务部\n"
         "需求收集\t市场部\t陈晨\t2026-12-02\t2026-12-08\tR\tC\tI\n"
         "接口开发\t研发部\t周杰\t2026-12-09\t2026-12-15\tA\tR\tI\n")


def _read(meetings: str, tasks: str = TASKS) -> dict[str, object]:
    text = ("项目名称：测试项目\n项目负责人：刘洋\n核心目标：测试\n\n"
            f"日期\t时间\t沟通主题\t参与部门/人员\n{meetings}\n\n{tasks}")
    reading = PlanReader(default_rules()).read(text.split("\n"), TODAY, "liu.yang@example.com")
    assert reading.plan is not None
    return {"errors": reading.errors,
            "meetings": [m.to_json() for m in reading.plan.meetings]}


@pytest.mark.parametrize(("when", "freq", "time"), [
    ("每周五\t15:00", "weekly", "15:00"),
    ("每周五15:00\t", "weekly", "15:00"),
    ("每周三\t下午3:00", "weekly", "15:00"),
    ("每周一\t上午十点", "weekly", "10:00"),
    ("每周四\t下午三点半", "weekly", "15:30"),
    ("每日\t17:00", "daily", "17:00"),
    ("每月末\t16:00", "monthly", "16:00"),
    ("每月末\t", "monthly", "16:00"),  # (seed 001 writes it without a time)
    ("2026-12-07\t14:00", "once", "14:00"),
    ("12月8日\t晚上8:30", "once", "20:30"),
])
def test_meeting_times_as_people_write_them(when: str, freq: str, time: str) -> None:
    found = _read(f"{when}\t周会\t市场部、研发部负责人")
    [meeting] = found["meetings"]  # type: ignore[misc]
    assert (meeting["freq"], meeting["time"]) == (freq, time), found["errors"]


def test_a_bad_raci_column_and_an_unknown_participant_are_each_told_once() -> None:
    found = _read("每周五\t15:00\t周会\t法务部负责人")
    errors = found["errors"]
    assert isinstance(errors, list)
    raci = [e for e in errors if "RACI 矩阵的部门「法务部」不在组织目录中" in e]
    assert len(raci) == 1  # two tasks have the column; one error
    assert any("沟通计划「周会」的参与部门「法务部」不在组织目录中" in e for e in errors)


def test_tasks_written_as_lines_read_as_a_table_would() -> None:
    from collabd.inbound.plan import PlanReader

    text = ("项目名称：年终促销系统上线\n项目负责人：刘洋\n核心目标：1月22日前上线活动页\n"
            "1. 任务：客户需求收集；负责部门：市场部；负责人：陈晨；计划开始：12月2日；"
            "计划完成：12月8日；RACI：市场部R、研发部C\n"
            "2. 任务：需求文档输出；负责部门：研发部；负责人：周杰；计划开始：12月9日；"
            "计划完成：12月15日；RACI：市场部A、研发部R、财务部C\n")
    reader = PlanReader(default_rules())
    lines = text.split("\n")
    assert reader.looks_like_plan(lines)
    reading = reader.read(lines, TODAY, "liu.yang@example.com")
    assert reading.errors == [] and reading.missing == []
    assert reading.plan is not None
    tasks = [t.to_json() for t in reading.plan.tasks]
    assert [t["name"] for t in tasks] == ["客户需求收集", "需求文档输出"]
    assert tasks[1]["raci"] == {"市场部": "A", "研发部": "R", "财务部": "C"}
    assert tasks[1]["accountable"] == "张伟" and tasks[0]["finish"] == "2026-12-08"


def test_a_request_form_is_not_a_plan() -> None:
    from collabd.inbound.plan import PlanReader

    form = ["发起部门：市场部", "接收部门：研发部", "具体需求内容：任务：导出数据",
            "期望完成时间：12月8日"]
    assert not PlanReader(default_rules()).looks_like_plan(form)
