"""Real mail servers on loopback for the IMAP/SMTP backend tests.

- `Dovecot`: the real IMAP server (Debian's dovecot-imapd and dovecot-lmtpd), with a
  throwaway configuration in a temporary directory, Maildir storage, and one password
  for every user (a static passdb): any address is a mailbox, so the tests can log in as
  the shared mailbox and as each person it writes to. Optionally TLS (a certificate from
  a throwaway CA made by trustme) and a reduced capability list (no MOVE, no IDLE).
- `Submission`: an SMTP submission server (aiosmtpd) with AUTH and optional STARTTLS or
  implicit TLS that delivers every accepted message into Dovecot over LMTP. This is what
  a company's 587/465 server does, without Postfix's queue: a message the server
  accepted is in the recipient's mailbox when the SMTP transaction ends, so a test can
  look right away. It can be stopped and started again on the same port.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from imapclient import IMAPClient

from collabd.config import Config, load_config
from collabd.deployment import init_deployment
from helpers import SHARED, apply_test_defaults, free_port, free_ports, require_binary

PASSWORD = "secret"
OAUTH_TOKEN = "ya29.test-access-token"
# aiosmtpd warns on every successful AUTH about its own deprecated attribute.
logging.getLogger("mail.log").setLevel(logging.ERROR)

# Dovecot 2.3's post-login capabilities without MOVE and IDLE: a server of the kind
# that needs COPY + UID EXPUNGE and polling; and an older kind, without UIDPLUS either.
NO_MOVE_NO_IDLE = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT SORT=DISPLAY "
                   "THREAD=REFERENCES THREAD=REFS THREAD=ORDEREDSUBJECT MULTIAPPEND "
                   "URL-PARTIAL CATENATE UNSELECT CHILDREN NAMESPACE UIDPLUS LIST-EXTENDED "
                   "I18NLEVEL=1 CONDSTORE QRESYNC ESEARCH ESORT SEARCHRES WITHIN "
                   "CONTEXT=SEARCH LIST-STATUS BINARY SPECIAL-USE")
NO_MOVE_NO_UIDPLUS = NO_MOVE_NO_IDLE.replace(" UIDPLUS", "")


class Dovecot:
    def __init__(self, *, ca: Any = None, capability: str | None = None,
                 inbox_prefix: bool = False) -> None:
        self.binary = require_binary("dovecot", why="the IMAP backend is tested against a "
                                     "real IMAP server")
        # Short: Dovecot's UNIX sockets live under base_dir (108-byte path limit).
        self.root = Path(tempfile.mkdtemp(prefix="dvc", dir="/tmp"))
        self.imap_port, self.imaps_port, self.lmtp_port = free_ports(3)
        if ca is None:
            self.imaps_port = 0
        # Courier's and Cyrus's layout: every folder below "INBOX.", "." between levels.
        self.inbox_prefix = inbox_prefix
        self.ca = ca  # a trustme CA, or None for plain IMAP
        self.cert = ca.issue_cert("127.0.0.1", "localhost") if ca is not None else None
        self.capability = capability
        self.proc: subprocess.Popen[bytes] | None = None
        self._configure()

    # -- configuration ------------------------------------------------------------------

    def _configure(self) -> None:
        root = self.root
        root.chmod(0o755)  # mkdtemp's 0700 would keep Dovecot's own users out
        for sub in ("run", "state", "mail", "home"):
            (root / sub).mkdir()
        if os.geteuid() == 0:
            # Dovecot drops to these users; the mail lives with the 'dovecot' user.
            internal, login, mail_user = "dovecot", "dovenull", "dovecot"
            for sub in ("mail", "home"):
                shutil.chown(root / sub, "dovecot", "dovecot")
        else:
            # Unprivileged: every process runs as the current user.
            import pwd

            me = pwd.getpwuid(os.getuid()).pw_name
            internal = login = mail_user = me
        ssl_lines = ["ssl = no"]
        imaps = ""
        if self.cert is not None:
            cert_file, key_file = root / "cert.pem", root / "key.pem"
            self.cert.private_key_pem.write_to_path(str(key_file))
            self.cert.cert_chain_pems[0].write_to_path(str(cert_file))
            ssl_lines = ["ssl = required", f"ssl_cert = <{cert_file}",
                         f"ssl_key = <{key_file}"]
            imaps = (f"  inet_listener imaps {{\n    address = 127.0.0.1\n"
                     f"    port = {self.imaps_port}\n    ssl = yes\n  }}\n")
        else:
            imaps = "  inet_listener imaps {\n    port = 0\n  }\n"
        capability = f"imap_capability = {self.capability}\n" if self.capability else ""
        if self.inbox_prefix:
            capability += ("namespace inbox {\n  inbox = yes\n  prefix = INBOX.\n"
                           "  separator = .\n}\n")
        config = f"""\
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap lmtp
listen = 127.0.0.1
{chr(10).join(ssl_lines)}
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
first_valid_uid = 0
default_internal_user = {internal}
default_internal_group = {internal}
default_login_user = {login}
{capability}\
passdb {{
  driver = static
  args = password={PASSWORD}
}}
userdb {{
  driver = static
  args = uid={mail_user} gid={mail_user} home={root}/home/%u allow_all_users=yes
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.imap_port}
  }}
{imaps}}}
service lmtp {{
  inet_listener lmtp {{
    address = 127.0.0.1
    port = {self.lmtp_port}
  }}
}}
service stats {{
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
"""
        (root / "dovecot.conf").write_text(config, encoding="utf-8")

    # -- lifecycle ------------------------------------------------------------------------

    def start(self, timeout: float = 20) -> Dovecot:
        with contextlib.suppress(FileNotFoundError):
            (self.root / "run" / "master.pid").unlink()  # left by a killed master
        self.proc = subprocess.Popen(
            [self.binary, "-F", "-c", str(self.root / "dovecot.conf")],
            stdout=subprocess.DEVNULL, stderr=(self.root / "master.err").open("ab"),
            start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"dovecot exited {self.proc.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.imap_port), 0.5) as s:
                    if s.recv(200).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"dovecot did not answer on {self.imap_port}:\n{self.log()}")

    def stop(self) -> None:
        """Stop the server and every process of it, open IMAP sessions included, as
        `systemctl stop dovecot` does (the master alone would leave those running)."""
        if self.proc is not None:
            group = self.proc.pid  # its own session: the group is Dovecot's processes
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(group, signal.SIGKILL)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)

    def log(self) -> str:
        parts = []
        for name in ("dovecot.log", "master.err"):
            path = self.root / name
            if path.exists():
                parts.append(path.read_text(errors="replace")[-4000:])
        return "\n".join(parts)

    # -- as a mail user -----------------------------------------------------------------

    @contextlib.contextmanager
    def login(self, user: str) -> Iterator[IMAPClient]:
        client = IMAPClient("127.0.0.1", port=self.imap_port, ssl=False, timeout=30)
        if self.cert is not None:
            client.starttls(self.client_context())
        client.login(user, PASSWORD)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.logout()

    def client_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context()
        self.ca.configure_trust(context)
        return context

    def append(self, user: str, raws: Sequence[bytes], folder: str = "INBOX") -> None:
        """Put messages in a mailbox as if they had been delivered there."""
        with self.login(user) as client:
            if not client.folder_exists(folder):
                client.create_folder(folder)
            for raw in raws:
                client.append(folder, raw)

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        """Every message in a folder, oldest first ([] when the folder does not exist)."""
        with self.login(user) as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            if not uids:
                return []
            data = client.fetch(uids, ["BODY.PEEK[]"])
            return [data[u][b"BODY[]"] for u in sorted(data)]

    def count(self, user: str, folder: str = "INBOX") -> int:
        with self.login(user) as client:
            if not client.folder_exists(folder):
                return 0
            status = client.folder_status(folder, ["MESSAGES"])
            return int(status[b"MESSAGES"])

    def flags(self, user: str, folder: str) -> list[tuple[bytes, ...]]:
        with self.login(user) as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            return [tuple(v) for v in client.get_flags(uids).values()] if uids else []


class _Deliver:
    """aiosmtpd handler: every accepted message goes on to Dovecot over LMTP, at once
    or, while Dovecot is down, from a queue retried in the background (as Postfix
    does: an IMAP server restart does not make the submission server refuse mail)."""

    def __init__(self, lmtp_port: int) -> None:
        self.lmtp_port = lmtp_port
        self.accepted: list[tuple[str, list[str], bytes]] = []
        self.deferred: list[tuple[str, str, bytes]] = []
        self.stored: list[str] = []  # recipients whose mailbox has the message
        self.logins: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._retry = threading.Thread(target=self._retry_deferred, daemon=True)
        self._retry.start()

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        """XOAUTH2 as Gmail and Exmail take it: base64 of
        "user=<address>^Aauth=Bearer <token>^A^A", sent as the initial response."""
        if len(args) < 2:
            return AuthResult(success=False, handled=False)
        try:
            fields = dict(part.split("=", 1) for part in
                          base64.b64decode(args[1]).decode().split("\x01") if part)
        except ValueError:
            return AuthResult(success=False, handled=False)
        if fields.get("auth") == f"Bearer {OAUTH_TOKEN}" and "user" in fields:
            self.logins.append(fields["user"])
            return AuthResult(success=True, auth_data=fields["user"])
        # Gmail's way to refuse: a 334 challenge carrying the error as JSON, which the
        # client answers with an empty line, and only then 535.
        await server.challenge_auth('{"status":"401","schemes":"bearer"}')
        return AuthResult(success=False, handled=False)

    def _lmtp(self, sender: str, rcpt: str, content: bytes) -> None:
        # One transaction per recipient: LMTP answers DATA once per recipient, which
        # smtplib does not read. Delivered once DATA is answered: a server going away
        # during the QUIT after it is no failure (retrying would deliver it twice).
        lmtp = smtplib.LMTP("127.0.0.1", self.lmtp_port, timeout=30)
        try:
            lmtp.sendmail(sender, [rcpt], content)
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                lmtp.quit()
        self.stored.append(rcpt)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        sender = envelope.mail_from or ""
        for rcpt in envelope.rcpt_tos:
            try:
                self._lmtp(sender, rcpt, content)
            except smtplib.SMTPRecipientsRefused as exc:
                code, text = next(iter(exc.recipients.values()))
                return f"{code} {text.decode(errors='replace')}"
            except (OSError, smtplib.SMTPException):
                with self._lock:
                    self.deferred.append((sender, rcpt, content))
        self.accepted.append((sender, list(envelope.rcpt_tos), content))
        return "250 2.0.0 accepted"

    def _retry_deferred(self) -> None:
        while not self._stop.wait(0.2):
            while self.deferred and not self._stop.is_set():
                sender, rcpt, content = self.deferred[0]  # stays queued until stored
                try:
                    self._lmtp(sender, rcpt, content)
                except (OSError, smtplib.SMTPException):
                    break
                with self._lock:
                    self.deferred.pop(0)

    def close(self) -> None:
        self._stop.set()
        self._retry.join(5)


class Submission:
    """SMTP submission (AUTH required) delivering into Dovecot by LMTP."""

    def __init__(self, dovecot: Dovecot, *, security: str = "none", ca: Any = None,
                 idle_timeout: float = 300) -> None:
        self.port = free_port()
        self.idle_timeout = idle_timeout  # the server drops clients silent this long
        self.security = security
        self.cert = ca.issue_cert("127.0.0.1", "localhost") if ca is not None else None
        self.handler = _Deliver(dovecot.lmtp_port)
        self._controller: Controller | None = None

    def _authenticate(self, server: SMTP, session: Session, envelope: Envelope,
                      mechanism: str, auth_data: Any) -> AuthResult:
        # Like the Dovecot here: every user, one password.
        if isinstance(auth_data, LoginPassword) and auth_data.password.decode() == PASSWORD:
            self.handler.logins.append(auth_data.login.decode())
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False)

    def _server_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.cert.configure_cert(context)
        return context

    def start(self) -> Submission:
        kwargs: dict[str, Any] = {
            "hostname": "127.0.0.1", "port": self.port, "authenticator": self._authenticate,
            "auth_required": True, "auth_require_tls": self.security != "none",
            "server_hostname": "smtp.test", "timeout": self.idle_timeout,
        }
        if self.security == "starttls":
            kwargs["tls_context"] = self._server_context()
            kwargs["require_starttls"] = True
        elif self.security == "tls":
            kwargs["ssl_context"] = self._server_context()
        controller = Controller(self.handler, **kwargs)
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening (the server is down); start() brings it back on its port."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def close(self) -> None:
        self.stop()
        self.handler.close()

    @property
    def queued(self) -> int:
        """Accepted messages not yet in their mailbox (Dovecot was down)."""
        return len(self.handler.deferred)

    @property
    def logins(self) -> list[str]:
        return self.handler.logins

    @property
    def delivered(self) -> list[tuple[str, list[str], bytes]]:
        return self.handler.accepted


def imap_deployment(root: Path, dovecot: Dovecot, submission: Submission, *,
                    folder: str = "INBOX", imap_security: str = "none",
                    smtp_security: str = "none", ca_file: bool = True,
                    imap_extra: str = "", daemon_extra: str = "") -> Config:
    """A deployment made by `collabd init`, switched to the imap backend on these
    servers, its passwords in a file beside the configuration."""
    path = init_deployment(root, address=SHARED, port=free_port())
    (root / "mail.secret").write_text(PASSWORD + "\n", encoding="utf-8")
    ca_line = ""
    if ca_file and dovecot.ca is not None:
        dovecot.ca.cert_pem.write_to_path(str(root / "ca.pem"))
        ca_line = "  ca_file: ca.pem\n"
    imap_port = dovecot.imaps_port if imap_security == "tls" else dovecot.imap_port
    text = path.read_text(encoding="utf-8")
    text = text.replace("backend: local\n", f"""\
backend: imap
imap:
  host: 127.0.0.1
  port: {imap_port}
  security: {imap_security}
  username: {SHARED}
  auth:
    password_file: mail.secret
  folder: {folder}
{ca_line}{imap_extra}\
smtp:
  host: 127.0.0.1
  port: {submission.port}
  security: {smtp_security}
  username: {SHARED}
  auth:
    password_file: mail.secret
{ca_line}\
""")
    text = text.replace("  poll_seconds: 2 ", "  poll_seconds: 0.5 ")
    text = text.replace("  log_level: info\n", f"""\
  log_level: info
  send_backoff_seconds: 0.5
  send_backoff_max_seconds: 2
{daemon_extra}""")
    path.write_text(text, encoding="utf-8")
    return apply_test_defaults(load_config(path))


class NeteaseImitation:
    """A Dovecot in front of which the IMAP conversation is NetEase Qiye's where it
    differs: SELECT and EXAMINE are refused ("Unsafe Login") until the client has sent
    the ID command (RFC 2971), as imap.qiye.163.com does to clients that do not say who
    they are. Everything else is the real Dovecot's, relayed byte for byte."""

    REFUSAL = b"NO SELECT Unsafe Login. Please contact kefu@188.com for help"

    def __init__(self, dovecot: Dovecot) -> None:
        self.dovecot = dovecot
        self.port = free_port()
        self._server = socket.create_server(("127.0.0.1", self.port))
        self._stop = threading.Event()
        self.refused = 0  # SELECT/EXAMINE refused for want of ID
        self.identified = 0  # sessions that sent ID

    def start(self) -> NeteaseImitation:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._server.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(client,), daemon=True).start()

    def _session(self, client: socket.socket) -> None:
        upstream = socket.create_connection(("127.0.0.1", self.dovecot.imap_port))

        def down() -> None:  # server → client, untouched
            try:
                while data := upstream.recv(65536):
                    client.sendall(data)
            except OSError:
                pass
            finally:
                with contextlib.suppress(OSError):
                    client.shutdown(socket.SHUT_WR)

        threading.Thread(target=down, daemon=True).start()
        identified = False
        reader = client.makefile("rb")
        try:
            while line := reader.readline():
                words = line.split(None, 2)
                command = words[1].upper() if len(words) > 1 else b""
                if command == b"ID":
                    identified = True
                    self.identified += 1
                elif command in (b"SELECT", b"EXAMINE") and not identified:
                    self.refused += 1
                    client.sendall(words[0] + b" " + self.REFUSAL + b"\r\n")
                    continue
                upstream.sendall(line)
                literal = re.search(rb"\{(\d+)\+?\}\r\n$", line)
                if literal:  # an APPEND's message: relayed as it is
                    upstream.sendall(reader.read(int(literal.group(1))))
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                upstream.close()
            with contextlib.suppress(OSError):
                client.close()


class Slapd:
    """A real OpenLDAP server (Debian's slapd) on a loopback port, from a throwaway
    configuration and database in a temporary directory, with the people a test adds."""

    SUFFIX = "dc=corp,dc=example,dc=com"
    ROOT_DN = "cn=admin,dc=corp,dc=example,dc=com"
    ROOT_PASSWORD = "ldap-admin-secret"

    def __init__(self, *, ca: Any = None) -> None:
        self.binary = require_binary("slapd", why="the org directory is read from LDAP")
        self.dir = Path(tempfile.mkdtemp(prefix="collabd-slapd-"))
        self.port, self.ldaps_port = free_ports(2)
        self.proc: subprocess.Popen[bytes] | None = None
        self.ca = ca  # a trustme CA: also LDAPS, and StartTLS on the plain port

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    def start(self) -> Slapd:
        (self.dir / "db").mkdir()
        schema = Path("/etc/ldap/schema")
        conf = self.dir / "slapd.conf"
        tls: list[str] = []
        urls = [f"{self.url}/"]
        if self.ca is not None:
            cert = self.ca.issue_cert("127.0.0.1", "localhost")
            cert.cert_chain_pems[0].write_to_path(str(self.dir / "cert.pem"))
            cert.private_key_pem.write_to_path(str(self.dir / "key.pem"))
            self.ca.cert_pem.write_to_path(str(self.dir / "ca.pem"))
            tls = [f"TLSCACertificateFile {self.dir / 'ca.pem'}",
                   f"TLSCertificateFile {self.dir / 'cert.pem'}",
                   f"TLSCertificateKeyFile {self.dir / 'key.pem'}"]
            urls.append(f"{self.ldaps_url}/")
        conf.write_text("\n".join([*tls,
            "modulepath /usr/lib/ldap", "moduleload back_mdb",
            *(f"include {schema / name}.schema" for name in ("core", "cosine",
                                                             "inetorgperson")),
            f"pidfile {self.dir / 'slapd.pid'}",
            "database mdb", "maxsize 10485760", f'suffix "{self.SUFFIX}"',
            f'rootdn "{self.ROOT_DN}"', f"rootpw {self.ROOT_PASSWORD}",
            f"directory {self.dir / 'db'}", ""]), encoding="utf-8")
        log = (self.dir / "slapd.log").open("wb")
        # -d 0: in the foreground (a child the fixture can stop), no debug output
        self.proc = subprocess.Popen([self.binary, "-f", str(conf), "-h", " ".join(urls),
                                      "-d", "0"], stdout=log, stderr=log)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("slapd exited:\n" + (self.dir / "slapd.log").read_text(
                    errors="replace"))
            try:
                with socket.create_connection(("127.0.0.1", self.port), 0.2):
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("slapd did not start")
        self._add(self.SUFFIX, ["top", "dcObject", "organization"],
                  {"dc": "corp", "o": "Example Corp"})
        self._add(f"ou=staff,{self.SUFFIX}", ["top", "organizationalUnit"], {"ou": "staff"})
        return self

    def _connection(self) -> Any:
        import ldap3

        return ldap3.Connection(ldap3.Server(self.url), user=self.ROOT_DN,
                                password=self.ROOT_PASSWORD, auto_bind=True,
                                raise_exceptions=True)

    def _add(self, dn: str, classes: list[str], attributes: dict[str, Any]) -> None:
        conn = self._connection()
        try:
            conn.add(dn, classes, attributes)
        finally:
            conn.unbind()

    def add_person(self, uid: str, name: str, mail: str, department: str,
                   manager: str | None = None) -> str:
        dn = f"uid={uid},ou=staff,{self.SUFFIX}"
        attributes: dict[str, Any] = {"cn": name, "sn": name[:1], "displayName": name,
                                      "mail": mail, "ou": department}
        if manager:
            attributes["manager"] = manager
        self._add(dn, ["top", "person", "organizationalPerson", "inetOrgPerson"], attributes)
        return dn

    def remove(self, dn: str) -> None:
        conn = self._connection()
        try:
            conn.delete(dn)
        finally:
            conn.unbind()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


class Postgres:
    """A real PostgreSQL (Debian's postgresql) from initdb in a temporary directory, on
    a free loopback port, its socket in that directory. The server refuses to run as
    root: as root (CI containers) it runs as the `postgres` user the package made."""

    USER = "collabd"

    def __init__(self) -> None:
        bindir = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
        initdb = str(bindir[-1] / "initdb") if bindir else None
        if initdb is None or not Path(initdb).exists():
            require_binary("initdb", why="the state is stored in a real PostgreSQL")
        self.bindir = bindir[-1] if bindir else Path("/usr/bin")
        self.dir = Path(tempfile.mkdtemp(prefix="collabd-pg-"))
        self.port = free_port()
        self._as: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
            self._as = ["runuser", "-u", "postgres", "--"]

    @property
    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user={self.USER} dbname=postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> Postgres:
        data = self.dir / "data"
        if not data.exists():
            self._run(str(self.bindir / "initdb"), "-D", str(data), "-A", "trust",
                      "-U", self.USER, "--encoding=UTF8", "--locale=C.UTF-8")
        self._run(str(self.bindir / "pg_ctl"), "-D", str(data), "-l", str(self.dir / "log"),
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
                        "-c fsync=off", "-w", "start")
        return self

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError, subprocess.TimeoutExpired):
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.dir / "data"), "-m",
                      "fast", "-w", "stop")

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
