"""Chosen options, dates and record numbers as people really write them."""

from __future__ import annotations

import datetime as dt

import pytest

from collabd.inbound.values import parse_choice, parse_date, record_id
from helpers import default_rules

FORMS = default_rules().forms


@pytest.mark.parametrize(("text", "expected"), [
    ("■项目推进 □资源支持 □问题解决 □信息同步 □其他", "项目推进"),
    ("□项目推进 ☑资源支持 □问题解决", "资源支持"),
    ("□項目推進 □資源支持 √問題解決", "问题解决"),
    ("项目推进(√) 资源支持( ) 其他( )", "项目推进"),
    ("[x] 信息同步 [ ] 其他", "信息同步"),
    ("(x)资源支持 ( )其他", "资源支持"),
    ("【√】项目推进 【】资源支持", "项目推进"),
    ("✓其他 □项目推进", "其他"),
    ("资讯同步", "信息同步"),  # Taiwan wording
    ("项目推进", "项目推进"),
])
def test_request_type_checkbox_styles(text: str, expected: str) -> None:
    chosen, problem = parse_choice(text, FORMS.request_type, FORMS.checked_marks,
                                   FORMS.unchecked_marks)
    assert (chosen, problem) == (expected, None)


@pytest.mark.parametrize(("text", "expected"), [
    ("紧急", "紧急"), ("緊急", "紧急"), ("不急", "不急"), ("不紧急", "不急"),
    ("□紧急 ■一般 □不急", "一般"), ("紧急（3天内）", "紧急"),
])
def test_urgency(text: str, expected: str) -> None:
    assert parse_choice(text, FORMS.urgency, FORMS.checked_marks,
                        FORMS.unchecked_marks)[0] == expected


@pytest.mark.parametrize(("text", "fragment"), [
    ("☑紧急 ☑一般", "勾选了多项"),
    ("□紧急 □一般 □不急", "没有勾选"),
    ("紧急 一般 不急", "列出了多项"),
    ("越快越好", "不是可选项"),
])
def test_unclear_choices_are_explained(text: str, fragment: str) -> None:
    chosen, problem = parse_choice(text, FORMS.urgency, FORMS.checked_marks,
                                   FORMS.unchecked_marks)
    assert chosen is None and problem is not None and fragment in problem


TODAY = dt.date(2026, 12, 20)


@pytest.mark.parametrize(("text", "expected"), [
    ("2026-12-30", dt.date(2026, 12, 30)),
    ("2026/12/30", dt.date(2026, 12, 30)),
    ("2026.12.30", dt.date(2026, 12, 30)),
    ("2026年12月30日", dt.date(2026, 12, 30)),
    ("２０２６年１２月３０日", dt.date(2026, 12, 30)),
    ("12月30日前", dt.date(2026, 12, 30)),
    ("1月8日", dt.date(2027, 1, 8)),  # written in December about January
    ("12月10日", dt.date(2026, 12, 10)),  # ten days ago: this year (and then "passed")
    ("2027-01-08 18:00", dt.date(2027, 1, 8)),
])
def test_dates_with_the_year_inferred(text: str, expected: dt.date) -> None:
    assert parse_date(text, TODAY) == (expected, None)


@pytest.mark.parametrize("text", ["下周五", "2026-02-30", "尽快"])
def test_unreadable_dates(text: str) -> None:
    date, problem = parse_date(text, TODAY)
    assert date is None and problem and text in problem


def test_record_ids() -> None:
    assert record_id("XQ-2026-0001") == "XQ-2026-0001"
    assert record_id("ＸＱ－２０２６－００１２") == "XQ-2026-0012"
    assert record_id("xq 2026 7") == "XQ-2026-0007"
    assert record_id("见 [WT-2026-0003]", "WT") == "WT-2026-0003"
    assert record_id("MKT-001", "XQ") is None


def test_only_a_configured_mailbox_prefix_is_read_as_part_of_an_id() -> None:
    from collabd.ids import know_prefix
    from collabd.inbound.classify import subject_tag

    # Letters before an id that are no mailbox's prefix are not ours: the bare id.
    assert record_id("需求编号：OA-XQ-2026-0007") == "XQ-2026-0007"
    assert record_id("ref - XQ-2026-0001") == "XQ-2026-0001"
    assert subject_tag("回复：[OA-XQ-2026-0007] 数据") == "XQ-2026-0007"
    know_prefix("QD")  # (a mailbox of this process's configuration)
    assert record_id("qd-xq-2026-7") == "QD-XQ-2026-0007"
    assert record_id("关联项目 QD - PJ 2026 3", "PJ") == "QD-PJ-2026-0003"
    assert subject_tag("回复：[QD-XQ-2026-0007] 数据") == "QD-XQ-2026-0007"
    assert record_id("XQ-2026-0007") == "XQ-2026-0007"  # (and without one, as before)
