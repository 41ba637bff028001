"""Quote stripping without knowing the original (a reply to a colleague's mail, a
forward): every separator, header block and attribution style people's clients write;
and with knowing it (a reply to the daemon's own message): every line of it, wherever."""

from __future__ import annotations

import pytest

from collabd.inbound.quotes import Original, forwarded_texts, strip_text
from helpers import QUOTE_STYLES as STYLES

ORIGINAL = "张经理，您好：\n附件是第二版方案，请回复“确认”，或回复“不确认”并写明意见。\n谢谢\n王芳"



@pytest.mark.parametrize("style", sorted(STYLES))
def test_every_client_style_leaves_only_the_new_text(style: str) -> None:
    header, marks = STYLES[style]
    quoted = "\n".join(marks + line for line in ORIGINAL.splitlines())
    assert strip_text(f"确认\n\n{header}\n{quoted}\n") == "确认"


def test_bottom_posting_keeps_the_text_below_the_quote() -> None:
    quoted = "\n".join("> " + line for line in ORIGINAL.splitlines())
    text = f"在 2026/12/10 14:10, 王芳 写道:\n{quoted}\n\n同意，按第二版执行。\n"
    assert strip_text(text) == "同意，按第二版执行。"


def test_inline_answers_between_quoted_lines_are_all_kept() -> None:
    text = "> 1. 预算50万\n同意\n> 2. 12月5日上线\n不同意，来不及\n> 3. 周杰负责\n"
    assert strip_text(text) == "同意\n\n不同意，来不及"


def test_a_wrapped_quote_line_is_not_an_answer() -> None:
    long = "> 附件是第二版方案，预算与排期都按上周评审会的意见做了调整，请各位在周五前回复意见"
    assert strip_text(f"确认\n\n王芳 写道：\n{long}\n并确认\n> 谢谢\n") == "确认"


@pytest.mark.parametrize(("text", "kept"), [
    ("不确认\n\n原因：收货地址写错了", "不确认\n\n原因：收货地址写错了"),
    ("驳回\n\n请把发票邮箱改为 finance@example.com", "驳回\n\n请把发票邮箱改为 finance@example.com"),
    ("确认\n\n张伟\n市场部 经理\n电话：010-8888 6666", "确认"),
    ("确认\n\n发自我的iPhone", "确认"),
    ("Here is another email\n\nSent from my desk, is much easier than my mobile phone.",
     "Here is another email\n\nSent from my desk, is much easier than my mobile phone."),
])
def test_a_signature_goes_a_reason_stays(text: str, kept: str) -> None:
    assert strip_text(text, names=("张伟",)) == kept


def test_what_we_sent_is_known_wherever_it_stands() -> None:
    ours = Original.load(Original.of_message(
        "[HY-2026-0001] 请确认会议纪要", "以下是会议纪要，请于明天10:00前直接回复本邮件：\n"
        "- 回复“确认”表示无异议；\n- 回复“不确认”并写明意见。\n1. 财务部本周完成预审。", None))
    assert ours is not None
    # An unknown client: no marks, no header we know; the original's lines go anyway.
    text = ("确认\n\n@@@ 原邮件 @@@\n以下是会议纪要，请于明天10:00前直接回复本邮件：\n"
            "- 回复“确认”表示无异议；\n- 回复“不确认”并写明意见。\n1. 财务部本周完成预审。")
    assert strip_text(text, original=ours) == "确认\n\n@@@ 原邮件 @@@"
    # Top, bottom and between: every line of ours goes, every line of theirs stays...
    text = "1. 财务部本周完成预审。\n同意，就按这个时间执行\n- 回复“不确认”并写明意见。\n"
    assert strip_text(text, original=ours) == "同意，就按这个时间执行"
    # ...but a line too short to tell apart, between two of ours, is taken as quote:
    # it could be our own (自测OK) and sign for them.
    text = "1. 财务部本周完成预审。\n同意\n- 回复“不确认”并写明意见。\n"
    assert strip_text(text, original=ours) == ""
    # Nothing written above an unmarked quote, and nothing below it: nothing written.
    text = ("________________________________\n发件人: 秘书 <collab@example.com>\n"
            "发送时间: 2026年12月10日 10:00\n\n以下是会议纪要，请于明天10:00前直接回复本邮件：\n"
            "自测OK\n- 回复“确认”表示无异议；\n")
    assert strip_text(text, original=ours) == ""
    assert strip_text(text + "\n\n确认\n", original=ours) == "确认"
    # A short answer is never taken for a quote, even of a message that has it alone.
    bare = Original.load(Original.of_message("s", "请回复：\n确认\n或\n不确认", None))
    assert bare is not None and strip_text("确认", original=bare) == "确认"


def test_the_persons_own_words_quoted_back_are_not_ours() -> None:
    asked = Original.load(Original.of_message(
        "s", "我们读到的是：\n    同意，但第二条要改一改\n请只回复确认或不确认。", None,
        echo="同意，但第二条要改一改"))
    assert asked is not None
    assert strip_text("同意，但第二条要改一改", original=asked) == "同意，但第二条要改一改"


def test_forwarded_texts_are_the_originals_without_their_headers() -> None:
    text = ("请处理\n\n-----原始邮件-----\n发件人: 刘洋 <liu.yang@example.com>\n"
            "发送时间: 2026年12月1日 9:00\n收件人: 张伟\n主题: 需求表\n\n发起部门：市场部\n接收部门：研发部")
    assert forwarded_texts(text) == ["发起部门：市场部\n接收部门：研发部"]
    assert forwarded_texts("没有转发的内容") == []


def test_an_answer_in_the_words_of_our_instruction_is_not_a_quote_of_it() -> None:
    asked = Original.load(Original.of_message(
        "s", "请只回复以下两种之一：\n- “确认”：验收通过；\n- “驳回：整改意见”：写明需要整改的内容。", None))
    assert asked is not None
    # The instruction quotes the words; the answer does not. The quoted instruction,
    # unmarked below the answer, still goes.
    text = "确认，验收通过\n\n- “确认”：验收通过；\n- “驳回：整改意见”：写明需要整改的内容。"
    assert strip_text(text, original=asked) == "确认，验收通过"
