"""`collabd init DIR`: a ready deployment on the embedded `local` backend."""

from __future__ import annotations

import shutil
from pathlib import Path

from collabd.config import CONFIG_NAME
from collabd.errors import CollabdError
from collabd.resources import skeleton_dir

CONFIG_TEMPLATE = """\
# collabd configuration. Relative paths are relative to this file.
# Every key is documented in the README ("Configuration").

mailbox:
  address: {address}          # the shared mailbox people write to
  display_name: 跨部门协作秘书

# local: embedded SMTP listener + Maildir (no external server needed).
backend: local
local:
  listen_host: 127.0.0.1
  listen_port: {port}
  # relay:                      # also hand every outgoing message to an SMTP server
  #   host: smtp.example.com
  #   port: 587
  #   security: starttls        # none | starttls | tls
  #   username: collab@example.com
  #   auth:
  #     password_file: relay.secret   # or password_env: COLLABD_RELAY_PASSWORD

# The company's mail server instead (Exmail, Alibaba, NetEase, Gmail, Dovecot, Exchange):
# backend: imap
# imap:
#   host: imap.exmail.qq.com
#   security: tls               # tls (993) | starttls (143) | none
#   username: collab@example.com
#   auth:
#     password_file: mail.secret   # or password_env / xoauth2_token_file / _env
# smtp:
#   host: smtp.exmail.qq.com
#   security: tls               # tls (465) | starttls (587) | none
#   username: collab@example.com
#   auth:
#     password_file: mail.secret

# Or Exchange Server through EWS, with meetings in its calendar:
# backend: ews
# ews:
#   service_endpoint: https://mail.example.com/EWS/Exchange.asmx
#   auth_type: ntlm             # ntlm | basic | oauth2
#   username: CORP\\svc-collab
#   auth:
#     password_file: ews.secret

# The state in PostgreSQL instead of state/ (README "Beyond one machine"): then a
# standby daemon on another machine takes over when this one is lost.
# store: postgresql
# postgresql:
#   dsn: "host=db.example.com dbname=collabd user=collabd"
#   auth:
#     password_file: pg.secret   # or password_env: COLLABD_PG_PASSWORD
#   takeover_seconds: 15

timezone: Asia/Shanghai

paths:
  rules: rules
  templates: mail_templates
  state: state

daemon:
  tick_seconds: 60            # how often the rules are evaluated
  poll_seconds: 2             # how often the mailbox is polled when idle
  log_level: info
"""

STATE_README = """\
Runtime state of collabd. Do not edit while the daemon runs.

db/            records, message index, outbox (TinyDB checkpoints) and wal/ (write-ahead log)
db/backups/    the last good copies of each table file
db/archive/    closed records, one file per year
queue/in/      inbound journal: raw messages waiting to be processed
queue/shunt/   messages whose processing failed, with the error beside them
queue/bad/     messages that crashed the daemon three times
mail/inbox/    Maildir the local SMTP listener delivers into (local backend)
mail/sent/     Maildir of every message sent, exactly as sent (local backend)
"""


def existing_deployment(target: Path) -> Path | None:
    config_path = target / CONFIG_NAME
    return config_path if config_path.exists() else None


def init_deployment(target: Path, *, address: str = "collab@example.com",
                    port: int = 2525, provider: str | None = None) -> Path:
    """A ready deployment: on the embedded `local` backend, or with `provider` (a key of
    collabd.providers) on that enterprise mail provider's IMAP and SMTP servers."""
    from collabd.providers import PROVIDERS, config_section

    if provider is not None and provider not in PROVIDERS:
        raise CollabdError(f"unknown provider {provider!r}; known: {', '.join(PROVIDERS)}")
    config_path = target / CONFIG_NAME
    if config_path.exists():
        raise CollabdError(f"{config_path} already exists; not overwriting a deployment")
    target.mkdir(parents=True, exist_ok=True)
    for name in ("rules", "mail_templates"):
        dest = target / name
        if dest.exists():
            raise CollabdError(f"{dest} already exists; choose an empty directory")
        shutil.copytree(skeleton_dir(name), dest)
    state = target / "state"
    state.mkdir(exist_ok=True)
    (state / "README").write_text(STATE_README, encoding="utf-8")
    text = CONFIG_TEMPLATE.format(address=address, port=port)
    if provider is not None:
        text = text.replace(
            "# local: embedded SMTP listener + Maildir (no external server needed).\n"
            "backend: local\n",
            config_section(PROVIDERS[provider], address)
            + "\n# local: the embedded backend's settings (unused while backend is imap)\n")
    config_path.write_text(text, encoding="utf-8")
    _blank_forms(target)
    return config_path


def _blank_forms(target: Path) -> None:
    """templates/: the blank project plan, built from the deployment's rules (its
    department columns are the org directory's; after changing org.yaml, colleagues get
    a current one with the daemon's "not understood" reply)."""
    from zoneinfo import ZoneInfo

    from collabd.outbound.plan_workbook import FILENAME, blank_plan
    from collabd.policy.rules import load_rules

    rules = load_rules(target / "rules", tz=ZoneInfo("Asia/Shanghai"))
    folder = target / "templates"
    folder.mkdir(exist_ok=True)
    (folder / FILENAME).write_bytes(blank_plan(rules))
