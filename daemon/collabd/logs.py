"""Logging to stderr in a form journald keeps well, naming the record each line concerns."""

from __future__ import annotations

import logging
import sys
from typing import Any

# syslog priorities; journald reads a leading "<N>" on each stderr line as the priority
# (SyslogLevelPrefix=yes is systemd's default) and strips it.
_PRIORITY = {
    logging.DEBUG: 7,
    logging.INFO: 6,
    logging.WARNING: 4,
    logging.ERROR: 3,
    logging.CRITICAL: 2,
}


class _Formatter(logging.Formatter):
    def __init__(self, journald: bool) -> None:
        super().__init__()
        self.journald = journald

    def format(self, record: logging.LogRecord) -> str:
        subject = getattr(record, "record", None)
        message = record.getMessage()
        if subject:
            message = f"{subject}: {message}"
        if record.threadName and record.threadName.startswith("mailbox "):
            # one process serving several mailboxes (collabd.yaml `mailboxes:`)
            message = f"[{record.threadName.removeprefix('mailbox ')}] {message}"
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        name = record.name.removeprefix("collabd.")
        if self.journald:
            prio = _PRIORITY.get(record.levelno, 6)
            # journald stores one entry per line: keep tracebacks attached to their entry.
            lines = message.splitlines() or [""]
            return "\n".join(f"<{prio}>{name}: {line}" for line in lines)
        stamp = self.formatTime(record, "%Y-%m-%d %H:%M:%S")
        return f"{stamp} {record.levelname:<7} {name}: {message}"


def setup(level: str = "info", *, stream: Any = None) -> None:
    stream = stream or sys.stderr
    handler = logging.StreamHandler(stream)
    journald = not (hasattr(stream, "isatty") and stream.isatty())
    handler.setFormatter(_Formatter(journald))
    root = logging.getLogger("collabd")
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    root.propagate = False
    # aiosmtpd logs every SMTP session at INFO; keep its warnings only.
    logging.getLogger("mail.log").setLevel(logging.WARNING)


def about(record_id: str | None) -> dict[str, Any]:
    """`extra=` for a log call that concerns one record: `log.info(..., extra=about(rid))`."""
    return {"record": record_id} if record_id else {}
