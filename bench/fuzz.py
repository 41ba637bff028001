"""Hostile and malformed mail through the parse path: nothing raises, nothing hangs,
nothing eats memory.

Mutates the messages under tests/data (byte flips, truncation, duplicated and huge
headers, bogus charset labels, broken base64/QP, deep multipart and HTML nesting,
zip-bomb .docx/.xlsx, a huge encoded Subject, a huge HTML body, broken calendars) and
runs each through what the daemon does with a message before it changes state: parse,
classify (forms, attachments, quotes, intent, calendar). Per message: any exception,
more than 2 s, or more than 200 MB of extra peak memory (the process's high-water mark)
is counted. Prints {"bench": "fuzz", "n", "exceptions", "over_2s", "over_200mb",
"seconds", "worst_seconds", "worst_kind"} and, with --verbose, each failure.

Run: python bench/fuzz.py [-n 20000] [--seed 1] [--verbose]
"""

from __future__ import annotations

import argparse
import base64
import io
import json
import random
import resource
import signal
import sys
import time
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from collabd.clock import DEFAULT_TZ, parse_instant
from collabd.inbound.classify import Classifier
from collabd.inbound.message import read_message
from collabd.policy.rules import load_rules
from collabd.resources import skeleton_dir

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
LIMIT_SECONDS = 2.0
LIMIT_MB = 200
ABORT_SECONDS = 30  # a message still running then is given up (and counted)

BOGUS_CHARSETS = ["base64", "zlib", "bz2", "hex", "uu", "quopri", "rot13", "undefined",
                  "idna", "utf-8\x00", "gb2312\xff", "x-unknown", "utf-16", "utf-32",
                  "utf-7", "punycode", "unicode-escape", "raw-unicode-escape", "mbcs",
                  "cp65001", "", '"', "utf8;x=1", "../../etc/passwd", "ksc5601"]


def _seeds() -> list[bytes]:
    files = sorted(DATA.glob("*.eml")) + sorted((DATA / "replies").glob("*.eml")) + sorted(
        (DATA / "imip").glob("*.eml"))
    return [p.read_bytes() for p in files]


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def docx_bomb(size_mb: int = 1200) -> bytes:
    """A .docx whose document.xml inflates to `size_mb` (a few MB on the wire), written
    in chunks so that making it costs no memory."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", b'<?xml version="1.0"?><Types xmlns="http://'
                         b'schemas.openxmlformats.org/package/2006/content-types"><Override '
                         b'PartName="/word/document.xml" ContentType="application/vnd.'
                         b'openxmlformats-officedocument.wordprocessingml.document.main+xml"/>'
                         b"</Types>")
        with archive.open("word/document.xml", "w", force_zip64=True) as part:
            part.write(b'<?xml version="1.0"?><w:document xmlns:w="http://schemas.'
                       b'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
                       b"<w:t>")
            chunk = b"A" * (1024 * 1024)
            for _ in range(size_mb):
                part.write(chunk)
            part.write(b"</w:t></w:r></w:p></w:body></w:document>")
    return buffer.getvalue()


def xlsx_rows(rows: int = 500_000) -> bytes:
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    for n in range(rows):
        sheet.append([f"r{n}", n])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _with_attachment(name: str, data: bytes) -> bytes:
    encoded = base64.encodebytes(data)
    return (b"From: a@example.com\r\nTo: collab@example.com\r\nSubject: form\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
            b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nsee attached\r\n--b\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Disposition: attachment; "
            b'filename="' + name.encode() + b'"\r\nContent-Transfer-Encoding: base64\r\n\r\n'
            + encoded + b"\r\n--b--\r\n")


_BOMBS: dict[str, bytes] = {}


def _bomb(kind: str) -> bytes:
    if kind not in _BOMBS:
        if kind == "docx":
            _BOMBS[kind] = _with_attachment("需求表.docx", docx_bomb())
        else:
            _BOMBS[kind] = _with_attachment("需求表.xlsx", xlsx_rows())
    return _BOMBS[kind]


def _split(raw: bytes) -> tuple[bytes, bytes]:
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in raw:
            head, body = raw.split(sep, 1)
            return head, body
    return raw, b""


Mutator = Callable[[random.Random, bytes], bytes]


def flip(rng: random.Random, raw: bytes) -> bytes:
    data = bytearray(raw)
    for _ in range(rng.randint(1, 20)):
        if data:
            data[rng.randrange(len(data))] = rng.randrange(256)
    return bytes(data)


def truncate(rng: random.Random, raw: bytes) -> bytes:
    return raw[:rng.randrange(max(len(raw), 1))]


def duplicate_headers(rng: random.Random, raw: bytes) -> bytes:
    head, body = _split(raw)
    lines = head.split(b"\n")
    extra = [rng.choice(lines) for _ in range(rng.randint(10, 3000))]
    return b"\n".join(lines + extra) + b"\r\n\r\n" + body


def huge_header(rng: random.Random, raw: bytes) -> bytes:
    name = rng.choice([b"Subject", b"From", b"To", b"References", b"X-Junk", b"Content-Type"])
    value = rng.choice([b"A" * 500_000, b"=?utf-8?B?5byg5Lyf?= " * 20_000,
                        b"<a@b> " * 80_000, b"\xff\xfe" * 200_000,
                        b"=?gb2312?Q?=D5=C5?=" * 25_000])
    return name + b": " + value + b"\r\n" + raw


def bogus_charset(rng: random.Random, raw: bytes) -> bytes:
    label = rng.choice(BOGUS_CHARSETS).encode("latin-1")
    out = raw.replace(b"charset=", b"charset=" + label + b";x=", 1)
    if rng.random() < 0.5:
        out = out.replace(b"?utf-8?", b"?" + label + b"?", 1).replace(
            b"?UTF-8?", b"?" + label + b"?", 1)
    return out


def broken_transfer(rng: random.Random, raw: bytes) -> bytes:
    head, body = _split(raw)
    garbage = bytes(rng.randrange(256) for _ in range(rng.randint(1, 2000)))
    cte = rng.choice([b"base64", b"quoted-printable", b"x-uuencode", b"8bit", b"bogus"])
    return (head + b"\r\nContent-Transfer-Encoding: " + cte + b"\r\n\r\n" + body[:200]
            + b"=\r\n=ZZ=" + garbage)


def deep_multipart(rng: random.Random, raw: bytes) -> bytes:
    depth = rng.randint(200, 3000)
    out = [b"From: a@example.com\r\nSubject: deep\r\nMIME-Version: 1.0\r\n"]
    for n in range(depth):
        out.append(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (n, n))
    out.append(b"Content-Type: text/plain\r\n\r\nhello\r\n")
    return b"".join(out)


def deep_html(rng: random.Random, raw: bytes) -> bytes:
    depth = rng.randint(1000, 200_000)
    html = b"<div>" * depth + "确认".encode() + b"</div>" * depth
    return (b"From: a@example.com\r\nSubject: html\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html)


def huge_html(rng: random.Random, raw: bytes) -> bytes:
    cell = "<tr><td>标签</td><td>值 & 内容</td></tr>".encode()
    html = b"<html><body><table>" + cell * (2_000_000 // len(cell)) + b"</table></body></html>"
    return (b"From: a@example.com\r\nSubject: Re: [XQ-2026-0001] x\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/html; charset=utf-8\r\n\r\n" + html)


def huge_text(rng: random.Random, raw: bytes) -> bytes:
    line = rng.choice(["> 引用的内容 ", "确认 ", "a" * 70, "---- ", "发件人: x\n"]).encode()
    return (b"From: a@example.com\r\nSubject: Re: [XQ-2026-0001] x\r\n"
            b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + (line + b"\n") * (3_000_000 // (len(line) + 1)))


def broken_calendar(rng: random.Random, raw: bytes) -> bytes:
    ics = rng.choice([b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nUID:x\r\n",
                      b"BEGIN:VCALENDAR\r\nMETHOD:REPLY\r\nBEGIN:VEVENT\r\nATTENDEE;PARTSTAT="
                      b"ACCEPTED:\r\nDTSTART:garbage\r\nSEQUENCE:x\r\nEND:VEVENT\r\nEND:VCALENDAR",
                      b"BEGIN:VCALENDAR\r\n" + b"BEGIN:VEVENT\r\n" * 5000,
                      bytes(rng.randrange(256) for _ in range(500))])
    return (b"From: a@example.com\r\nSubject: Accepted\r\nMIME-Version: 1.0\r\n"
            b"Content-Type: text/calendar; method=REPLY; charset=utf-8\r\n\r\n" + ics)


def bomb(rng: random.Random, raw: bytes) -> bytes:
    return _bomb(rng.choice(["docx", "xlsx"]))


def eight_bit_ids(rng: random.Random, raw: bytes) -> bytes:
    return (b"Message-ID: <\xe4\xbd\xa0\xff@x>\r\nIn-Reply-To: <\x00\x01@y>\r\n"
            b"References: <a\xff@b> <\r\n" + raw)


MUTATORS: list[tuple[str, Mutator, float]] = [
    ("flip", flip, 30), ("truncate", truncate, 10), ("duplicate_headers", duplicate_headers, 5),
    ("huge_header", huge_header, 3), ("bogus_charset", bogus_charset, 20),
    ("broken_transfer", broken_transfer, 10), ("deep_multipart", deep_multipart, 2),
    ("deep_html", deep_html, 2), ("huge_html", huge_html, 0.5), ("huge_text", huge_text, 0.5),
    ("broken_calendar", broken_calendar, 5), ("bomb", bomb, 0.2),
    ("eight_bit_ids", eight_bit_ids, 5),
]


class _Timeout(Exception):
    pass


def _alarm(*_: Any) -> None:
    raise _Timeout()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-n", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--only", help="one mutator by name")
    args = parser.parse_args()
    zone = ZoneInfo(DEFAULT_TZ)
    rules = load_rules(skeleton_dir("rules"), tz=zone)
    classifier = Classifier(rules, "collab@example.com")
    now = parse_instant("2026-12-01T10:00", zone)
    rng = random.Random(args.seed)
    seeds = _seeds()
    mutators = [m for m in MUTATORS if not args.only or m[0] == args.only]
    weights = [w for _, _, w in mutators]
    signal.signal(signal.SIGALRM, _alarm)
    if any(m[0] == "bomb" for m in mutators):
        _bomb("docx"), _bomb("xlsx")  # made before the memory baseline is taken
    start = time.perf_counter()
    exceptions = over_time = over_memory = 0
    worst = (0.0, "")
    baseline = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for _ in range(args.n):
        name, mutate, _w = rng.choices(mutators, weights)[0]
        raw = mutate(rng, rng.choice(seeds))
        began = time.perf_counter()
        signal.alarm(ABORT_SECONDS)
        try:
            message = read_message(raw)
            event = classifier.classify(message, now)
            event.to_json()
        except _Timeout:
            over_time += 1
            if args.verbose:
                print(f"timeout {name}", file=sys.stderr)
            continue
        except Exception:
            exceptions += 1
            if args.verbose:
                print(f"exception {name}: {traceback.format_exc(limit=-3)}", file=sys.stderr)
        finally:
            signal.alarm(0)
        took = time.perf_counter() - began
        if took > LIMIT_SECONDS:
            over_time += 1
            if args.verbose:
                print(f"slow {name}: {took:.1f}s", file=sys.stderr)
        if took > worst[0]:
            worst = (took, name)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        if (peak - baseline) / 1024 > LIMIT_MB:
            over_memory += 1
            if args.verbose:
                print(f"memory {name}: {(peak - baseline) / 1024:.0f} MB", file=sys.stderr)
            baseline = peak  # count each message that pushed the high-water mark
    print(json.dumps({"bench": "fuzz", "n": args.n, "exceptions": exceptions,
                      "over_2s": over_time, "over_200mb": over_memory,
                      "seconds": round(time.perf_counter() - start, 1),
                      "worst_seconds": round(worst[0], 2), "worst_kind": worst[1]}))


if __name__ == "__main__":
    main()
