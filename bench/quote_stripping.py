"""How well collabd finds what people newly wrote in a reply, on everyone's tests.

Prints one JSON line per suite with `ok` (cases where all the new text is found and no
line of the quote leaks, the peers' own scoring: score_lib.judge in
../shared/corpus/reply-suites), `strict` (and the exact text), `n`, and `bar`: the best
score on that suite of a peer that did not write it (the goal is to be at least there).

Suites: the peers' own expectations (talon text and HTML, zapier, crisp, mail-parser-
reply, email_reply_trimmer), and the Chinese clients — every reply fixture in
tests/data/replies (one per client style, whole messages through the MIME reader) —
scored on the exact new text. Optionally `--peer`: mail-parser-reply (a dev extra) on
the same suites, measured in the same run.

Run: python bench/quote_stripping.py [--suites DIR] [--peer]
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path
from typing import Any

from collabd.inbound.message import read_message
from collabd.inbound.quotes import new_text, strip_html, strip_text

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
SUITES = ROOT.parent / "shared" / "corpus" / "reply-suites"
# The best ok% of a peer that did not write the suite (reply-suites/README.md).
BARS = {"talon_text": 67, "talon_html": 62, "zapier": 95, "crisp": 86, "mpr": 92,
        "trimmer": 52}


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


def peer_suites(directory: Path, peer: Any | None) -> None:
    sys.path.insert(0, str(directory))
    warnings.filterwarnings("ignore")
    from score_lib import judge  # the suites' own scoring, not ours

    for suite in BARS:
        cases = json.loads((directory / f"{suite}.json").read_text(encoding="utf-8"))
        ok = strict = peer_ok = 0
        for case in cases:
            reader = strip_text if case["kind"] == "text" else strip_html
            verdict = judge(suite, case, reader(case["input"]))
            ok += verdict["ok"]
            strict += verdict["strict"]
            if peer is not None:
                peer_ok += judge(suite, case, peer(case))["ok"]
        row: dict[str, Any] = {"suite": suite, "ok": ok, "strict": strict, "n": len(cases),
                               "ok_pct": round(100 * ok / len(cases)), "bar_pct": BARS[suite]}
        if peer is not None:
            row["mail_parser_reply_ok"] = peer_ok
        print(json.dumps(row))


def chinese_clients() -> None:
    expected = json.loads((DATA / "replies" / "EXPECTED.json").read_text(encoding="utf-8"))
    ok = 0
    misses = []
    for name, case in sorted(expected.items()):
        message = read_message((DATA / "replies" / name).read_bytes())
        got = new_text(message.body, (message.sender_name,))
        if _norm(got) == _norm(case["new_text"]):
            ok += 1
        else:
            misses.append(name)
    print(json.dumps({"suite": "chinese_clients", "ok": ok, "n": len(expected),
                      "ok_pct": round(100 * ok / len(expected)), "bar_pct": 95,
                      "misses": misses}, ensure_ascii=False))


def _mail_parser_reply() -> Any | None:
    try:
        from mailparser_reply import EmailReplyParser
    except ImportError:
        return None
    from neutral import html_text

    parser = EmailReplyParser(languages=["en", "de", "fr", "es", "it", "nl", "pl", "sv",
                                         "da", "ja"])

    def run(case: dict[str, Any]) -> str:
        text = case["input"] if case["kind"] == "text" else html_text(case["input"])
        try:
            return str(parser.parse_reply(text=text))
        except Exception as exc:  # the peer's own failures count as misses
            return f"<error {exc}>"
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--suites", type=Path, default=SUITES)
    parser.add_argument("--peer", action="store_true",
                        help="also run mail-parser-reply (pip install mail-parser-reply)")
    args = parser.parse_args()
    if args.suites.is_dir():
        sys.path.insert(0, str(args.suites))
        peer_suites(args.suites, _mail_parser_reply() if args.peer else None)
    else:
        print(json.dumps({"suite": "peers", "skipped": f"no suites at {args.suites}"}))
    chinese_clients()


if __name__ == "__main__":
    main()
