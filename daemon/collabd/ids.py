"""Record ids: `XQ-2026-0001`, or with the mailbox's prefix `SH-XQ-2026-0001` when one
configuration serves several shared mailboxes (collabd.yaml `mailbox.id_prefix`), so
that a person who works with two of them can tell their records apart by the id."""

from __future__ import annotations

import re

KINDS = ("XQ", "WT", "HY", "RW", "PJ")
# A mailbox's prefix, as written before the kind: 2 to 6 letters and a hyphen.
PREFIX_PATTERN = r"(?:[A-Z]{2,6}-)?"
VALID_PREFIX = re.compile(r"^[A-Z]{2,6}$")


def with_prefix(record_id: str, prefix: str) -> str:
    """`XQ-2026-0001` as the mailbox with `prefix` names it (an id that has a prefix,
    or any id where there is none, is left as it is)."""
    if not prefix or record_id[:2].upper() not in KINDS or record_id[2:3] != "-":
        return record_id
    return f"{prefix}-{record_id}"
