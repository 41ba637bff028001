"""Personal board links: signed, expiring, bound to one person, under a key that only
this deployment has."""

from __future__ import annotations

import datetime as dt
import stat
from pathlib import Path

from collabd.web.links import BoardLinks, load_key

NOW = dt.datetime(2026, 12, 3, 10, 0, tzinfo=dt.UTC)


def test_a_link_names_its_person_until_it_expires(tmp_path: Path) -> None:
    links = BoardLinks(load_key(tmp_path), "https://board.example.com/", days=7)
    link, expires = links.link("Li.Jing@example.com", NOW)
    assert link.startswith("https://board.example.com/?t=")
    assert expires == NOW + dt.timedelta(days=7)
    token = link.split("?t=", 1)[1]
    assert links.verify(token, NOW + dt.timedelta(days=6, hours=23)) == "li.jing@example.com"
    assert links.verify(token, expires) is None


def test_altered_or_foreign_tokens_are_refused(tmp_path: Path) -> None:
    links = BoardLinks(load_key(tmp_path), "http://x")
    token, _ = links.token("li.jing@example.com", NOW)
    body, signature = token.split(".")
    # another person's name under the same signature
    other, _ = links.token("wang.jianguo@example.com", NOW)
    assert links.verify(f"{other.split('.')[0]}.{signature}", NOW) is None
    assert links.verify(body + "." + signature[:-1] + ("A" if signature[-1] != "A" else "B"),
                        NOW) is None
    assert links.verify(body, NOW) is None and links.verify("", NOW) is None
    assert links.verify("!!!.???", NOW) is None
    (tmp_path / "b").mkdir()
    elsewhere = BoardLinks(load_key(tmp_path / "b"), "http://x")
    assert elsewhere.verify(token, NOW) is None  # another deployment's key


def test_the_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    key = load_key(tmp_path)
    assert len(key) == 32 and load_key(tmp_path) == key
    assert stat.S_IMODE((tmp_path / "board.key").stat().st_mode) == 0o600
