"""A wall-clock budget for reading one message, so that no input can hang the daemon.

Every step of reading a message is bounded by size already (headers, HTML, text,
attachments); the budget is the last line behind those bounds. It is a SIGALRM timer,
which only the main thread can receive: elsewhere (a test's thread) it is not armed.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# What reading one message (parsing, forms, attachments, quotes) may take.
READ_BUDGET_SECONDS = 20.0


class BudgetExceeded(Exception):
    """Reading the message took longer than its budget."""


def _expired(*_: Any) -> None:
    raise BudgetExceeded(f"reading the message took more than {READ_BUDGET_SECONDS:.0f} s")


@contextmanager
def budget(seconds: float = READ_BUDGET_SECONDS) -> Iterator[None]:
    """Raise BudgetExceeded in the block once `seconds` have passed."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
