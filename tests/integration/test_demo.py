"""`collabd demo`: every flow in a few seconds, a readable timeline, exit 0."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration


def test_demo_runs_every_flow_and_keeps_the_deployment(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = subprocess.run([sys.executable, "-m", "collabd", "demo", "--out", str(out)],
                            capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    timeline = result.stdout.decode()
    for event in (
        "需求已受理",                       # intake
        "需求表信息不完整",                  # an incomplete form, then fixed
        "会议邀请：需求评审会",               # the review meeting
        "提醒：请于2026年12月30日（周三）11:30前确认会议纪要",  # the silent attendee chased…
        "【升级】参会人未在24小时内确认会议纪要",  # …and escalated, after holiday and weekend
        "2027-01-04 周一 09:00",
        "1月1日的每周风险排查会不召开：那天放假",
        "会议邀请：风险排查会：完成数据接口",   # a blocked task's risk meeting
        "会议邀请：每周风险排查会",            # the weekly one
        "验收未通过",                        # a deliverable rejected…
        "验收通过，需求已关闭",               # …then accepted
        "【重大问题上报】",                    # a 重大 problem escalated to the leader
    ):
        assert event in timeline, event
    sent = list((out / "state" / "mail" / "sent" / "new").iterdir())
    assert len(sent) == int(timeline.split(" messages sent")[0].rsplit("\n", 1)[-1])
    assert (out / "collabd.yaml").exists() and (out / "rules" / "org.yaml").exists()
    status = subprocess.run([sys.executable, "-m", "collabd", "status", "--json", "--config",
                             str(out / "collabd.yaml")], capture_output=True, check=True)
    assert json.loads(status.stdout)["mail"]["sent"] == len(sent)


def test_demo_refuses_a_directory_in_use(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    result = subprocess.run([sys.executable, "-m", "collabd", "demo", "--out", str(tmp_path)],
                            capture_output=True, timeout=60, check=False)
    assert result.returncode != 0 and b"not empty" in result.stderr


def test_demo_of_a_project_runs_from_plan_to_archive(tmp_path: Path) -> None:
    out = tmp_path / "project"
    result = subprocess.run([sys.executable, "-m", "collabd", "demo", "--project", "--out",
                             str(out)], capture_output=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr.decode()
    timeline = result.stdout.decode()
    for event in (
        "项目已建立：春节促销活动上线",          # the plan read from its workbook
        "会议邀请：项目启动会",                 # the 启动会 …
        "请确认会议纪要：项目启动会",            # … its minutes confirmed by everyone
        "请签署《跨部门协作备忘录》",            # each head asked alone
        "提醒：请于2026年12月31日（周四）14:00前签署协作备忘录",  # the late one reminded
        "《跨部门协作备忘录》已由各部门负责人签署",
        "会议邀请：专项推进会（验收前）",          # the push meeting at a key node …
        "决议已由组长签署",                      # … its 决议 signed by the leader
        "请验收任务交付物（第2次）：活动页开发",  # rejected by its A, delivered again
        "全部任务已验收，请反馈使用效果",
        "会议邀请：项目复盘会",
        "项目已关闭：春节促销活动上线",
        "资料归档：春节促销活动上线",           # the archive to the secretary
    ):
        assert event in timeline, event
    shown = subprocess.run([sys.executable, "-m", "collabd", "show", "PJ-2026-0001", "--json",
                            "--config", str(out / "collabd.yaml")], capture_output=True,
                           check=True)
    project = json.loads(shown.stdout)["record"]
    assert project["status"] == "closed" and project["memo"]["signed"]
    assert "订单增长 15%" in project["feedback"]["text"]
