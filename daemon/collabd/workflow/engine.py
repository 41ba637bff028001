"""The workflow's entry points: one inbound message, or one clock tick → an Outcome."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from collabd.clock import isoformat
from collabd.inbound.message import InboundMessage
from collabd.store.view import StateView
from collabd.workflow.outcome import Outcome


@dataclass(frozen=True)
class Identity:
    """Who the daemon is: the shared mailbox it reads and writes as."""

    address: str
    display_name: str


class Workflow:
    def __init__(self, identity: Identity) -> None:
        self.identity = identity

    def on_message(self, message: InboundMessage, view: StateView,
                   now: dt.datetime) -> Outcome:
        outcome = Outcome()
        outcome.inbound = {
            "dir": "in",
            "kind": "unknown",
            "from": message.sender,
            "subject": message.subject,
            "at": isoformat(now),
        }
        return outcome

    def on_tick(self, view: StateView, now: dt.datetime) -> Outcome:
        return Outcome()
