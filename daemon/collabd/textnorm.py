"""Normalising Chinese text for matching: full-width forms, traditional characters, case.

Only the *matching* of labels, keywords, options and names goes through here; what
people wrote is stored and quoted back exactly as they wrote it.
"""

from __future__ import annotations

import functools
import re
import unicodedata

import opencc

# Taiwan-standard traditional → mainland simplified, with phrase conversion (資訊 → 信息,
# 軟體 → 软件), so that what an Outlook zh-TW user writes matches the simplified rules.
_T2S = opencc.OpenCC("tw2sp")
_SPACE = re.compile(r"\s+")


def nfkc(text: str) -> str:
    """Full-width letters, digits and punctuation to their ASCII forms (：→:, （→(, １→1)."""
    return unicodedata.normalize("NFKC", text)


@functools.lru_cache(maxsize=65536)
def simplified(text: str) -> str:
    return str(_T2S.convert(text))


@functools.lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """The form used to compare: NFKC, simplified, case-folded, single spaces."""
    return " ".join(simplified(nfkc(text)).casefold().split())  # spaces collapsed


def key(text: str) -> str:
    """Like `fold`, with all white space removed (for labels and names: 张 伟 = 张伟)."""
    return _SPACE.sub("", fold(text))


@functools.lru_cache(maxsize=8192)
def _fold_char(ch: str) -> str:
    return simplified(unicodedata.normalize("NFKC", ch)).casefold()


@functools.lru_cache(maxsize=4096)
def fold_mapped(text: str) -> tuple[str, tuple[int, ...]]:
    """`text` folded character by character, and for each folded character the index of
    the character it came from, so that a match in the folded text can be cut from the
    original (what people wrote is quoted back as they wrote it)."""
    out: list[str] = []
    origin: list[int] = []
    for index, ch in enumerate(text):
        folded = _fold_char(ch)
        out.append(folded)
        origin.extend([index] * len(folded))
    return "".join(out), tuple(origin)
