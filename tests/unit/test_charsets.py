"""Charsets as they really arrive: nothing is ever shown as mojibake or '?'."""

from __future__ import annotations

import pytest

from collabd.inbound.decode import decode_bytes, decode_header_value, html_to_text
from collabd.inbound.message import read_message
from helpers import DATA

# corpus file → (text expected in the subject, text expected in the body)
CASES = {
    "outlook_express_gb2312_8bit.eml": ("代开各地增值税发票", "你好！我公司可代开各类增值税发票"),
    "gbk_qp_mixedcase_labels.eml": ("Test施氏食狮史", ""),
    "gb18030_base64_bad_header_line.eml": ("施氏食狮史", "石室诗士施氏，嗜狮，誓食十狮。"),
    "gbk_base64_multipart_mixed.eml": ("施氏食狮史", "氏时时适市视狮。"),
    "big5_labelled_us_ascii.eml": ("", "顏是家訓"),
    "big5_latin1_mojibake_subject.eml": ("大補泡麵專賣", ""),
    "bad_charset_label_cp1252.eml": ("bad charset", "Mätterhorn"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_real_charsets_decode_without_mojibake(name: str) -> None:
    message = read_message((DATA / name).read_bytes())
    subject, body = CASES[name]
    assert subject in message.subject
    assert body in message.body.text
    assert "\ufffd" not in message.subject + message.body.text


def test_sender_names_in_gbk_encoded_words() -> None:
    message = read_message((DATA / "gbk_qp_mixedcase_labels.eml").read_bytes())
    assert message.sender == "alice.fajianren@example.com"
    assert message.sender_name == "艾莉絲 发件人"


def test_gb2312_label_decodes_gbk_only_characters() -> None:
    text = "王喆 镕 堃"  # GBK, not GB2312
    decoded = decode_bytes(text.encode("gbk"), "gb2312")
    assert decoded.text == text and decoded.repaired is True
    plain = decode_bytes("中文".encode("gb2312"), "GB2312")
    assert plain.text == "中文" and plain.repaired is False


def test_encoded_word_split_mid_character_is_joined() -> None:
    data = "需求".encode()
    first, second = data[:4], data[4:]  # 需 is 3 bytes: the split is inside 求
    import base64

    raw = (f"=?UTF-8?B?{base64.b64encode(first).decode()}?= "
           f"=?UTF-8?B?{base64.b64encode(second).decode()}?=")
    assert decode_header_value(raw).text == "需求"


def test_ks_c_label_on_chinese_text_is_detected() -> None:
    text = "各部门负责人请注意，本周五下午召开跨部门协调会议，请准时参加。"
    decoded = decode_bytes(text.encode("gb18030"), "ks_c_5601-1987")
    assert decoded.text == text and decoded.repaired is True


def test_html_table_becomes_label_value_lines() -> None:
    html = ("<table><tr><td><p>发起部门</p></td><td><p>市场部</p></td></tr>"
            "<tr><td>需求背景<o:p></o:p></td><td><p>第一段</p><p>第二段</p></td></tr></table>"
            "<p>张伟</p>")
    assert html_to_text(html).splitlines() == ["发起部门\t市场部", "需求背景\t第一段", "第二段",
                                               "", "张伟"]
