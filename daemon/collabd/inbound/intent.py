"""What a reply's new text means: confirm, reject, progress, delivered, or a comment.

The keywords come from rules/signoff.yaml. Negation wins: a reject word anywhere makes
the reply a rejection, and a confirm word right after 不/未/请/是否 is not a
confirmation. Only the new text is read, never the quoted original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from collabd.policy.schema import Keywords
from collabd.textnorm import fold, fold_mapped

_URL = re.compile(r"https?://[^\s<>\"'，。；）)]+", re.IGNORECASE)
_PERCENT = re.compile(r"(\d{1,3})\s*%")
_SENTENCE_END = re.compile(r"[。！!？?；;\n]")
_EDGE_PUNCT = " \t\r\n,，.。!！?？;；:：、~～…-—_*"
_QUESTION = re.compile(r"(?:吗|么|嘛|呢)\s*[?？]?\s*$|[?？]\s*$")


@dataclass
class Intent:
    kind: str  # confirm | reject | progress | delivered | comment
    reason: str | None = None
    percent: int | None = None
    status: str | None = None
    links: list[str] = field(default_factory=list)


def _strip_edges(text: str) -> str:
    return text.strip(_EDGE_PUNCT)


def _first_sentence(folded: str) -> str:
    return _strip_edges(_SENTENCE_END.split(_strip_edges(folded), maxsplit=1)[0])


def _reason_after(text: str, word: str) -> str:
    """The text after the first `word` (matched folded), in the writer's own spelling."""
    folded, origin = fold_mapped(text)
    index = folded.find(word)
    if index < 0:
        return _strip_edges(text)
    end = index + len(word)
    return _strip_edges(text[origin[end]:] if end < len(origin) else "")


def _confirms(folded: str, keywords: Keywords) -> bool:
    words = sorted((fold(w) for w in keywords.confirm), key=len, reverse=True)
    negations = [fold(n) for n in keywords.negations]
    sentence = _first_sentence(folded)
    if _QUESTION.search(sentence):
        return False
    for word in words:
        if sentence.startswith(word):
            return True
    # A short reply that says it somewhere ("好的，确认" / "没问题，同意"), unnegated.
    if len(_strip_edges(folded)) > 40:
        return False
    for word in words:
        for found in re.finditer(re.escape(word), folded):
            before = folded[max(0, found.start() - 3):found.start()]
            if not any(before.endswith(n) for n in negations):
                return True
    return False


def classify(text: str, keywords: Keywords, *, has_attachment: bool = False) -> Intent:
    folded = fold(text)
    if not _strip_edges(folded):
        return Intent("comment")
    links = _URL.findall(text)
    # Negation wins: 不确认 is never a confirmation.
    for word in sorted((fold(w) for w in keywords.reject), key=len, reverse=True):
        if word in folded:
            reason = _reason_after(text, word)
            return Intent("reject", reason=reason or None, links=links)
    sentence = _first_sentence(folded)
    delivered = [fold(w) for w in keywords.delivered]
    if (has_attachment or links) and any(sentence.startswith(w) for w in delivered):
        return Intent("delivered", reason=_strip_edges(text) or None, links=links)
    percent_match = _PERCENT.search(folded)
    status = None
    for name, words in keywords.status.items():
        if any(fold(w) in folded for w in words):
            status = name
            break
    progress_words = [fold(w) for w in keywords.progress]
    if (percent_match and any(w in folded for w in progress_words)) or (
            status and (any(w in folded for w in progress_words) or sentence.startswith(
                tuple(fold(w) for w in keywords.status.get(status, []))))):
        percent = int(percent_match.group(1)) if percent_match else None
        if percent is not None and percent > 100:
            percent = None
        return Intent("progress", reason=_progress_reason(text) or None,
                      percent=percent, status=status, links=links)
    if _confirms(folded, keywords):
        return Intent("confirm", links=links)
    return Intent("comment", reason=_strip_edges(text) or None, links=links)


def _progress_reason(text: str) -> str:
    """原因：… / reason after the status, else the whole text."""
    found = re.search(r"(?:原因|理由|说明|備註|备注)\s*[:：]\s*(.+)", text, re.DOTALL)
    if found:
        return _strip_edges(found.group(1))
    return _strip_edges(text)
