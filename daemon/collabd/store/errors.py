"""Store errors that stop the daemon and tell the operator how to recover."""

from __future__ import annotations

from collabd.errors import CollabdError


class StateDamaged(CollabdError):
    """A state file cannot be read; the daemon refuses to start rather than reset it."""

    def __init__(self, problem: str, *, recovery: str) -> None:
        self.problem = problem
        self.recovery = recovery
        super().__init__(
            f"state is damaged: {problem}\n"
            "collabd will not start on it, so that nothing is overwritten or silently reset.\n"
            f"To recover: {recovery}"
        )


class StateTooNew(CollabdError):
    """A state file was written by a newer collabd with a schema this one does not know."""


class Fenced(BaseException):
    """This process no longer leads its mailbox (another took over while it was cut
    off): nothing it would commit is written; it must stand down.

    A BaseException, like SystemExit: the daemon's many "log it and go on" handlers
    (a tick that raised, a backend's bug) must not swallow it and go on touching the
    mailbox; only the main loop catches it, to stand down."""


class StoreBusy(CollabdError):
    """Another process leads the mailbox (`run --once` does not stand by)."""


class StoreUnavailable(CollabdError):
    """The database cannot be reached (a start waits and tries again)."""
