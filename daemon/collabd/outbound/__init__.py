"""Outgoing mail: composing drafts, the outbox, sending with retry."""
