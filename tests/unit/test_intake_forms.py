"""Request forms and problem reports in every form real clients send them."""

from __future__ import annotations

import pytest

from helpers import at, classify_file

NOW = at("2026-12-01 12:00")

# fixture → the fields a person would expect read from it
REQUESTS = {
    # Foxmail: gb2312 label on GBK text (喆), base64, full-width colons, signature after.
    "foxmail_gbk_request.eml": {
        "requester_dept": "市场部", "requester": "张伟", "receiver_dept": "研发部",
        "receiver": "孙丽", "type": "项目推进", "urgency": "一般", "due": "2026-12-20",
        "background": "季度复盘需要统一的数据口径，减少各区域手工汇总，王喆团队每周耗时约两天。",
        "acceptance": "看板上线，数据与财务月报误差小于1%，通过市场部验收。",
    },
    # QQ Mail: numbered items, "label : value", value on the next line, 12月10日.
    "qqmail_numbered_request.eml": {
        "requester_dept": "运营部", "requester": "何芳", "receiver_dept": "财务部",
        "receiver": "郑浩", "type": "资源支持", "urgency": "紧急", "due": "2026-12-10",
        "background": "双十二活动预算需要提前锁定，避免活动期间审批排队。",
    },
    # Outlook zh-CN: Word table pasted as HTML only, gb2312 QP, ☑ marks, a value split
    # over two cells, two paragraphs in one cell.
    "outlook_zhcn_table_request.eml": {
        "requester_dept": "财务部", "requester": "吴敏", "receiver_dept": "研发部",
        "receiver": "赵强", "type": "资源支持", "urgency": "不急", "due": "2026-12-25",
        "background": "年底结账需要报销系统的数据接口。\n目标：结账周期从5天缩短到3天。",
        "content": "开放报销系统只读接口，\n按日推送已审批单据。",
    },
    # Outlook zh-TW: Big5, traditional labels in 【】, 資訊同步, 緊急.
    "outlook_zhtw_big5_request.eml": {
        "requester_dept": "运营部", "requester": "黄磊", "receiver_dept": "研发部",
        "type": "信息同步", "urgency": "紧急", "due": "2026-12-18",
        "content": "請研發部提供新欄位的定義與計算方式文件。",
    },
    # Excel paste: a row of labels over a row of values.
    "excel_header_row_request.eml": {
        "requester_dept": "研发部", "receiver_dept": "运营部", "type": "信息同步",
        "due": "2026-12-15", "urgency": "一般", "requester": "赵强",
    },
    # Gmail: HTML only, <div>s, a "-- " signature.
    "gmail_html_only_request.eml": {
        "requester_dept": "研发部", "receiver_dept": "运营部", "due": "2026-12-09",
        "acceptance": "双方确认的排期表。",
    },
    # .docx form: a 4-column table with merged value cells, a note after the table.
    "docx_attached_request.eml": {
        "requester_dept": "运营部", "requester": "何芳", "receiver_dept": "市场部",
        "receiver": "刘洋", "type": "问题解决", "urgency": "紧急", "due": "2026-12-11",
        "acceptance": "说明与话术经运营部确认并发布到客服知识库。",
    },
    # .xlsx form: label column and value column, the date as an Excel date.
    "xlsx_attached_request.eml": {
        "requester_dept": "研发部", "requester": "周杰", "receiver_dept": "财务部",
        "type": "资源支持", "due": "2026-12-16", "urgency": "一般",
    },
}


@pytest.mark.parametrize("name", sorted(REQUESTS))
def test_request_forms_are_read_from_every_client(name: str) -> None:
    event = classify_file(name, NOW)
    assert event.kind == "request", event.to_json()
    data = event.to_json()
    assert data["missing"] == [] and data["errors"] == []
    for key, value in REQUESTS[name].items():
        assert data["fields"][key] == value, (key, data["fields"])
    assert "\ufffd" not in "".join(data["fields"].values())


def test_charset_repaired_is_reported_when_the_label_lied() -> None:
    assert classify_file("foxmail_gbk_request.eml", NOW).to_json()["charset_repaired"] is True
    assert classify_file("qqmail_numbered_request.eml", NOW).to_json()[
        "charset_repaired"] is False


def test_attachment_source_is_named() -> None:
    data = classify_file("xlsx_attached_request.eml", NOW).to_json()
    assert data["source"] == "attachment:需求表.xlsx"


def test_incomplete_form_lists_exactly_what_is_missing() -> None:
    data = classify_file("incomplete_request.eml", NOW).to_json()
    assert data["kind"] == "request"
    assert data["missing"] == ["background", "due", "acceptance"]
    assert data["errors"] == []


def test_wrong_values_are_each_explained() -> None:
    errors = classify_file("wrong_values_request.eml", NOW).to_json()["errors"]
    assert len(errors) == 3
    assert any("设计部" in e and "不在组织目录中" in e and "研发部" in e for e in errors)
    assert any("下周五" in e and "无法识别为日期" in e for e in errors)
    assert any("没有勾选" in e for e in errors)


def test_due_date_in_the_past_is_an_error() -> None:
    data = classify_file("fixed_request.eml", at("2027-01-15 09:00")).to_json()
    assert any("已经过去" in e for e in data["errors"])


def test_problem_reports_with_and_without_severity() -> None:
    major = classify_file("problem_report_major.eml", NOW).to_json()
    assert major["kind"] == "problem"
    assert major["fields"]["severity"] == "重大"
    assert major["fields"]["target_dept"] == "研发部"
    assert "related_request" not in major["fields"]  # "无" is no answer
    default = classify_file("problem_report_default.eml", NOW).to_json()
    assert default["fields"]["severity"] == "重要"  # 客户投诉 raises it, per forms.yaml
    assert default["fields"]["reporter_dept"] == "市场部"  # from the sender's directory entry


def test_a_question_is_not_a_form() -> None:
    assert classify_file("unknown_question.eml", NOW).kind == "unknown"


def _departments(ticks: str) -> dict[str, object]:
    """The receiving and cooperating departments read from 所需配合部门 written `ticks`."""
    from collabd.inbound.classify import Classifier
    from collabd.inbound.message import read_message
    from helpers import SHARED, default_rules, message

    raw = message(sender="刘洋 <liu.yang@example.com>", subject="跨部门协作需求单：测试", body=(
        "协作事项名称：测试\n协作目标：目标\n协作背景与必要性：背景\n"
        f"所需配合部门：{ticks}\n时间节点：2026年12月20日上线\n验收标准：上线\n"))
    data = Classifier(default_rules(), SHARED).classify(
        read_message(raw), NOW, lambda _: None).to_json()
    return {"lead": data["fields"].get("receiver_dept"),
            "others": data["fields"].get("cooperating_depts", []), "errors": data["errors"]}


@pytest.mark.parametrize("ticks", [
    "■研发部 □销售部 ■财务部",  # marks before
    "研发部(√) 销售部( ) 财务部(√)",  # marks after, as Word tables are often filled
    "研发部【√】 销售部【 】 财务部【√】",
    "[x] 研發部 [ ] 銷售部 [x] 財務部",  # traditional
    "□销售部 ■财务部 ■研发部（主责）",  # the lead marked, not first
])
def test_ticked_departments_whichever_side_the_marks_are(ticks: str) -> None:
    assert _departments(ticks) == {"lead": "研发部", "others": ["财务部"], "errors": []}


def test_a_ticked_department_not_in_the_directory_is_an_error_not_dropped() -> None:
    found = _departments("■研发部 ■设计部 □财务部")
    assert found["lead"] == "研发部"
    assert any("设计部" in str(e) and "不在组织目录中" in str(e) for e in found["errors"])
