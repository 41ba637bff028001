"""Record ids: `XQ-2026-0001`, or with the mailbox's prefix `SH-XQ-2026-0001` when one
configuration serves several shared mailboxes (collabd.yaml `mailbox.id_prefix`), so
that a person who works with two of them can tell their records apart by the id."""

from __future__ import annotations

import re

KINDS = ("XQ", "WT", "HY", "RW", "PJ")
# A mailbox's prefix, as written before the kind: 2 to 6 letters and a hyphen.
PREFIX_PATTERN = r"(?:[A-Z]{2,6}-)?"
VALID_PREFIX = re.compile(r"^[A-Z]{2,6}$")


# The prefixes of the mailboxes this process's configuration names (config.py adds
# them as it loads): only these are read as part of an id. Anything else before an id
# — "OA-XQ-2026-0007", "ref-XQ-2026-0001" — is not ours, and the bare id is read.
_KNOWN: set[str] = set()


def know_prefix(prefix: str) -> None:
    _KNOWN.add(prefix.upper())


def known_prefix(text: str | None) -> str | None:
    """`text` (the letters before an id) if it is a configured prefix, else None."""
    if not text:
        return None
    upper = text.upper()
    return upper if upper in _KNOWN else None


def ours(found_id: str) -> str:
    """An id as matched with an optional prefix, with a prefix that is no mailbox's
    taken off (SUBJECT_TAG, the board's links)."""
    head, sep, rest = found_id.partition("-")
    if sep and head.upper() not in KINDS:  # letters before the kind
        return found_id if known_prefix(head) else rest
    return found_id


def with_prefix(record_id: str, prefix: str) -> str:
    """`XQ-2026-0001` as the mailbox with `prefix` names it (an id that has a prefix,
    or any id where there is none, is left as it is)."""
    if not prefix or record_id[:2].upper() not in KINDS or record_id[2:3] != "-":
        return record_id
    return f"{prefix}-{record_id}"
