"""Personal board links (看板): a token that names a person and an expiry, signed with
HMAC-SHA256 under a key kept in the state directory (created on first use, mode 0600).
The daemon mails a link on request (`看板`); the board accepts it while it is unexpired
and its person is still in the org directory. Nothing else is stored: a key changed
(the file deleted) revokes every link at once."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
from pathlib import Path

from collabd.errors import CollabdError

KEY_FILE = "board.key"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_key(state_dir: Path) -> bytes:
    """The signing key, made on first use (two processes racing agree on one file)."""
    path = state_dir / KEY_FILE
    try:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            pass
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_bytes()
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
            fh.flush()
            os.fsync(fh.fileno())
        return key
    except OSError as exc:
        raise CollabdError(f"cannot read or create the board's key {path}: {exc.strerror} "
                           "(is the state directory there, and writable by this user?)"
                           ) from exc


class BoardLinks:
    def __init__(self, key: bytes, base_url: str, days: int = 7) -> None:
        if len(key) < 16:
            raise ValueError("the board key is too short")
        self._key = key
        self.base_url = base_url.rstrip("/")
        self.days = days

    def _sign(self, body: str) -> str:
        return _b64(hmac.new(self._key, body.encode("ascii"), hashlib.sha256).digest())

    def token(self, address: str, now: dt.datetime) -> tuple[str, dt.datetime]:
        expires = now + dt.timedelta(days=self.days)
        body = _b64(json.dumps({"a": address.lower(), "e": int(expires.timestamp())},
                               separators=(",", ":")).encode("utf-8"))
        return f"{body}.{self._sign(body)}", expires

    def link(self, address: str, now: dt.datetime) -> tuple[str, dt.datetime]:
        token, expires = self.token(address, now)
        return f"{self.base_url}/?t={token}", expires

    def verify(self, token: str, now: dt.datetime) -> str | None:
        """The address a token names, if it is ours, intact and unexpired."""
        body, _, signature = (token or "").partition(".")
        if not body or not signature or not hmac.compare_digest(
                signature.encode("ascii", "replace"), self._sign(body).encode("ascii")):
            return None
        try:
            claims = json.loads(_unb64(body))
            address, expires = str(claims["a"]), int(claims["e"])
        except (ValueError, KeyError, TypeError):
            return None
        return address if now.timestamp() < expires else None
