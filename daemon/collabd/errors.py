"""Errors a user can hit and act on; the CLI prints them without a traceback."""

from __future__ import annotations


class CollabdError(Exception):
    """Base of every error whose message is meant for the operator."""
