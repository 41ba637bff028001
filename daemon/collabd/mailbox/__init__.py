"""Mailbox backends behind one small interface (base.py): local, and later imap, ews."""
