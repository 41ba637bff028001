"""A test per client reply style: only the new text is read, and its intent is right.

The fixtures (tests/data/replies/) are built by tests/data/build_reply_fixtures.py from
the client shapes in ../shared/corpus/CLIENT_FORMATS.md; EXPECTED.json holds what a
person reading each message sees as newly written, and what it means.
"""

from __future__ import annotations

import json

import pytest

from collabd.inbound.intent import classify
from collabd.inbound.message import read_message
from collabd.inbound.quotes import new_text
from helpers import DATA, default_rules

REPLIES = DATA / "replies"
EXPECTED = json.loads((REPLIES / "EXPECTED.json").read_text(encoding="utf-8"))
RULES = default_rules()


def _read(name: str) -> tuple[str, str, str | None]:
    message = read_message((REPLIES / name).read_bytes())
    known = RULES.directory.by_address(message.sender)
    names = tuple(n for n in (message.sender_name, known.name if known else "") if n)
    text = new_text(message.body, names)
    has_attachment = bool(message.body.attachments)
    intent = classify(text, RULES.signoff.keywords, has_attachment=has_attachment)
    return text, intent.kind, intent.reason


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_new_text_and_intent_per_client(name: str) -> None:
    expected = EXPECTED[name]
    text, kind, reason = _read(name)
    assert " ".join(text.split()) == " ".join(expected["new_text"].split())
    assert kind == expected["intent"]
    if expected["reason"] is not None:
        assert (reason or "").rstrip("。.") == expected["reason"].rstrip("。.")


def test_a_confirm_only_in_the_quote_is_not_a_confirm() -> None:
    assert _read("gt_quoted_only_confirm_in_quote.eml")[1] == "comment"
    assert _read("gmail_mobile_zh_reply_comment.eml")[1] == "unclear"  # 收到 + 看完再回复


def test_confirm_above_a_quote_full_of_reject_words() -> None:
    raw = (REPLIES / "confirm_above_quote_with_reject_words.eml").read_bytes()
    message = read_message(raw)
    assert "不确认" in message.body.text  # the quote really holds them
    assert _read("confirm_above_quote_with_reject_words.eml")[1] == "confirm"
