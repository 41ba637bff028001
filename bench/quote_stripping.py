"""How well quote stripping finds what people newly wrote: mail-parser-reply vs. collabd.

Runs both over the reply fixtures (tests/data/replies, EXPECTED.json: one per Chinese
client style) and the Western replies from the corpus (talon_*: the new text is
"Hello"), and prints one JSON line per message and a summary line. It measured the gap
that inbound/quotes.py fills; mail-parser-reply is a dev extra, not a dependency.
Run: python bench/quote_stripping.py
"""

from __future__ import annotations

import json
from pathlib import Path

from collabd.inbound.message import read_message
from collabd.inbound.quotes import new_text

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def cases() -> list[tuple[str, bytes, str]]:
    out = []
    expected = json.loads((DATA / "replies" / "EXPECTED.json").read_text(encoding="utf-8"))
    for name, e in sorted(expected.items()):
        out.append((f"replies/{name}", (DATA / "replies" / name).read_bytes(), e["new_text"]))
    for path in sorted(DATA.glob("talon_*_reply.eml")):
        out.append((path.name, path.read_bytes(), "Hello"))
    return out


def main() -> None:
    try:
        from mailparser_reply import EmailReplyParser
    except ImportError:
        EmailReplyParser = None
    parser = EmailReplyParser(languages=["zh", "en", "de", "ja"]) if EmailReplyParser else None
    totals = {"messages": 0, "collabd": 0, "mail_parser_reply": 0}
    for name, raw, expected in cases():
        message = read_message(raw)
        ours = new_text(message.body, (message.sender_name,))
        theirs = None
        if parser is not None:
            try:
                theirs = parser.parse_reply(text=message.body.text)
            except Exception as exc:
                theirs = f"<error {exc}>"
        row = {"message": name, "collabd_ok": _norm(ours) == _norm(expected),
               "mail_parser_reply_ok": _norm(theirs) == _norm(expected) if parser else None}
        if parser is not None and not row["mail_parser_reply_ok"]:
            row["mail_parser_reply_got"] = (theirs or "")[:80]
        totals["messages"] += 1
        totals["collabd"] += int(row["collabd_ok"])
        totals["mail_parser_reply"] += int(bool(row["mail_parser_reply_ok"]))
        print(json.dumps(row, ensure_ascii=False))
    print(json.dumps({"bench": "quote_stripping", **totals}, ensure_ascii=False))


if __name__ == "__main__":
    main()
