"""SMTP submission (587 STARTTLS, 465 TLS): one connection reused, errors classified.

Used by the IMAP backend and by the local backend's relay. A refusal with a 5xx code is
permanent (the outbox gives up and records it); everything else — a refused connection,
a dropped one, a 4xx — is temporary and retried by the outbox with backoff.
"""

from __future__ import annotations

import contextlib
import logging
import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from collabd.errors import CollabdError
from collabd.mailbox.base import SendError

log = logging.getLogger(__name__)

# Where a password or an OAuth2 access token comes from, asked at every login: a token
# file refreshed by an outside helper, or a password changed, is picked up without a
# restart.
SecretSource = Callable[[], str | None]
# A connection kept open longer than this without use is closed before the next send
# rather than found dead by it (Postfix drops idle clients after 300 s, Exchange sooner).
IDLE_REUSE_SECONDS = 60.0


def tls_context(verify: bool, ca_file: Path | None) -> ssl.SSLContext:
    """Certificate verification on unless turned off; a private CA bundle if given."""
    context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


class SmtpSender:
    def __init__(self, host: str, port: int, *, security: str, username: str | None,
                 secret: SecretSource | str | None, oauth2: bool = False,
                 verify: bool = True, ca_file: Path | None = None,
                 timeout: float = 60.0, provider: str | None = None) -> None:
        self.host = host
        self.provider = provider  # (collabd.providers: what a refused login means there)
        self.port = port
        self.security = security
        self.username = username
        self.secret: SecretSource = secret if callable(secret) else (lambda: secret)
        self.oauth2 = oauth2
        self.context = tls_context(verify, ca_file)
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None
        self._last_used = 0.0

    def describe(self) -> str:
        return f"{self.host}:{self.port} ({self.security})"

    def connect(self) -> smtplib.SMTP:
        smtp: smtplib.SMTP
        if self.security == "tls":
            smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                    context=self.context)
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            if self.security == "starttls":
                smtp.starttls(context=self.context)
        smtp.ehlo()
        secret = self.secret()
        if self.username and secret is not None:
            if self.oauth2:
                token = f"user={self.username}\x01auth=Bearer {secret}\x01\x01"
                # The token goes as the initial response; a challenge after it is the
                # server's error report (JSON), answered with an empty line to get the
                # final 535.
                smtp.auth("XOAUTH2", lambda challenge=None: "" if challenge else token)
            else:
                smtp.login(self.username, secret)
        return smtp

    def send(self, raw: bytes, sender: str, recipients: Sequence[str]) -> None:
        if self._smtp is not None and time.monotonic() - self._last_used > IDLE_REUSE_SECONDS:
            self.close()
        for attempt in (1, 2):
            reused = self._smtp is not None
            if self._smtp is None:
                self._smtp = self._open()
            try:
                refused = self._smtp.sendmail(sender, list(recipients), raw)
            except smtplib.SMTPRecipientsRefused as exc:
                # smtplib has sent RSET already: the connection stays good for the next.
                permanent = all(code >= 500 for code, _ in exc.recipients.values())
                raise SendError(f"{self.describe()} refused every recipient: "
                                f"{exc.recipients}", permanent=permanent) from exc
            except smtplib.SMTPResponseException as exc:
                self.close()
                if attempt == 1 and reused and exc.smtp_code in (421, 451):
                    continue  # a kept connection the server timed out: a fresh one
                raise SendError(f"{self.describe()} answered {exc.smtp_code} "
                                f"{exc.smtp_error!r}", permanent=exc.smtp_code >= 500,
                                unreachable=exc.smtp_code == 421) from exc
            except (OSError, smtplib.SMTPException) as exc:
                self.close()
                if attempt == 1 and reused:
                    continue  # the connection kept open was dropped meanwhile: reconnect
                raise SendError(f"{self.describe()}: connection lost: {exc}",
                                unreachable=True) from exc
            self._last_used = time.monotonic()
            if refused:
                log.warning("%s refused some recipients: %s", self.describe(), refused)
            return

    def _open(self) -> smtplib.SMTP:
        """A new, logged-in connection; every failure is the server's (unreachable)."""
        try:
            return self.connect()
        except CollabdError as exc:  # the secret file or variable went missing
            raise SendError(f"{self.describe()}: {exc}", unreachable=True) from exc
        except smtplib.SMTPAuthenticationError as exc:
            from collabd.providers import login_hint

            hint = login_hint(self.host, self.provider)
            raise SendError(f"{self.describe()}: login as {self.username} refused "
                            f"({exc.smtp_code} {exc.smtp_error!r}){hint}",
                            unreachable=True) from exc
        except ssl.SSLCertVerificationError as exc:
            raise SendError(f"{self.describe()}: the server's certificate could not be "
                            f"verified ({exc.verify_message}); give its CA with "
                            "smtp.ca_file", unreachable=True) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SendError(f"{self.describe()} unreachable: {exc}",
                            unreachable=True) from exc

    def probe(self) -> list[str]:
        """What `collabd check` says about the server."""
        smtp = self._open()
        try:
            features = sorted(smtp.esmtp_features)
            return [f"SMTP {self.describe()}: logged in as {self.username}" if self.username
                    else f"SMTP {self.describe()}: connected",
                    f"SMTP extensions: {', '.join(features)}"]
        finally:
            smtp.quit()

    def close(self) -> None:
        if self._smtp is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self._smtp.quit()  # the server may already have dropped us
            self._smtp = None
