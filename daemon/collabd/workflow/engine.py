"""The workflow's entry points: one classified event, or one clock tick → an Outcome."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from typing import Any

from collabd.inbound.classify import Event
from collabd.inbound.message import InboundMessage
from collabd.outbound.templates import Templates
from collabd.policy.rules import Rules
from collabd.store.view import StateView
from collabd.workflow import intake, meetings, projects, queries, replies, ticks
from collabd.workflow.context import BusyLookup, Context, Identity
from collabd.workflow.outcome import Outcome

__all__ = ["Identity", "Workflow"]


class Workflow:
    def __init__(self, rules: Rules, templates: Templates, identity: Identity,
                 busy: BusyLookup | None = None) -> None:
        self.rules = rules
        self.templates = templates
        self.identity = identity
        self.busy = busy  # free/busy from the mail server's calendar, where it has one

    def context(self, view: StateView, now: dt.datetime) -> Context:
        return Context(self.rules, self.templates, self.identity, view, now, self.busy)

    def on_event(self, event: Event, view: StateView, now: dt.datetime) -> Outcome:
        ctx = self.context(view, now)
        if event.kind == "request":
            return intake.handle_request(event, ctx)
        if event.kind == "problem":
            return intake.handle_problem(event, ctx)
        if event.kind == "project":
            return projects.handle_project(event, ctx)
        if event.kind == "plan_update":
            return projects.plan_update(event, ctx)
        if event.kind == "query":
            return queries.handle_query(event, ctx)
        if event.kind in ("auto_reply", "bounce"):
            return intake.automatic(event, ctx)
        if event.kind == "reply":
            return replies.handle_reply(event, ctx)
        if event.kind == "calendar_reply":
            return meetings.on_calendar_reply(event, ctx)
        if event.kind == "oversize":
            return intake.too_large(event, ctx)
        if event.kind == "unreadable":
            return intake.unreadable(event, ctx)
        return intake.not_understood(event, ctx)

    def on_set_aside(self, head: InboundMessage, name: str, view: StateView,
                     now: dt.datetime) -> Outcome:
        return intake.set_aside(head, name, self.context(view, now))

    def set_aside_summary(self, view: StateView, now: dt.datetime,
                          describe: Callable[[], list[dict[str, Any]]]) -> Outcome:
        return intake.set_aside_summary(self.context(view, now), describe)

    def on_tick(self, view: StateView, now: dt.datetime,
                only: Collection[str] | None = None, review_only: Collection[str] = (),
                skipped: set[str] | None = None) -> Outcome:
        return ticks.on_tick(self.context(view, now), only, review_only, skipped)
