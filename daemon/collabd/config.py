"""collabd.yaml → validated settings; every error names the file, the line, the key."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from collabd.clock import DEFAULT_TZ
from collabd.configpath import CONFIG_ENV, CONFIG_NAME, default_config_path
from collabd.yamlsrc import ConfigError, load_yaml, validate

__all__ = ["CONFIG_ENV", "CONFIG_NAME", "Config", "ConfigError", "default_config_path",
           "load_config"]


Port = Annotated[int, Field(ge=1, le=65535)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Secret(_Strict):
    """Where a password or an OAuth2 access token comes from: a file or an environment
    variable, never the YAML."""

    password_file: Path | None = None
    password_env: str | None = None
    # XOAUTH2 (Tencent Exmail, Gmail, Exchange): an access token kept fresh by an outside
    # helper in a file, or passed in the environment.
    xoauth2_token_file: Path | None = None
    xoauth2_token_env: str | None = None
    # Accepted by the schema only to be refused with a helpful message.
    password: Any = None

    @field_validator("password")
    @classmethod
    def _no_inline_password(cls, value: Any) -> Any:
        if value is not None:
            raise ValueError(
                "a password is never written in the YAML; use password_file: (a file readable "
                "only by the daemon) or password_env: (an environment variable name)"
            )
        return value

    @model_validator(mode="after")
    def _one_source(self) -> Secret:
        given = [name for name in ("password_file", "password_env", "xoauth2_token_file",
                                   "xoauth2_token_env") if getattr(self, name) is not None]
        if len(given) > 1:
            raise ValueError(f"give one of {' and '.join(given)}, not both")
        return self

    @property
    def given(self) -> bool:
        return any(v is not None for v in (self.password_file, self.password_env,
                                           self.xoauth2_token_file, self.xoauth2_token_env))

    @property
    def oauth2(self) -> bool:
        return self.xoauth2_token_file is not None or self.xoauth2_token_env is not None

    def _read(self, path: Path | None, env: str | None, base_dir: Path) -> str | None:
        if path is not None:
            full = path if path.is_absolute() else base_dir / path
            try:
                return full.read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise ConfigError([f"cannot read the secret file {full}: {exc.strerror}"]
                                  ) from None
        if env is not None:
            value = os.environ.get(env)
            if value is None:
                raise ConfigError([f"environment variable {env} is not set"])
            return value
        return None

    def resolve(self, base_dir: Path) -> str | None:
        """The password (or, for XOAUTH2, the access token)."""
        if self.oauth2:
            return self._read(self.xoauth2_token_file, self.xoauth2_token_env, base_dir)
        return self._read(self.password_file, self.password_env, base_dir)

    def source(self, base_dir: Path) -> Callable[[], str | None]:
        """Read once now (a missing file or variable is a start-up error), then again at
        every login: OAuth2 access tokens expire within the hour and are refreshed in
        their file by an outside helper; passwords get changed."""
        self.resolve(base_dir)
        return lambda: self.resolve(base_dir)


class Relay(_Strict):
    """An SMTP server that the local backend also hands every outgoing message to."""

    host: str
    port: Port = 25
    security: Literal["none", "starttls", "tls"] = "none"
    username: str | None = None
    auth: Secret | None = None
    timeout_seconds: float = 30.0


class LocalBackend(_Strict):
    listen_host: str = "127.0.0.1"
    listen_port: Port = 2525
    relay: Relay | None = None
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)


class Mailbox(_Strict):
    address: str = Field(description="the shared mailbox everyone writes to")
    display_name: str = "跨部门协作秘书"
    bounce_address: str | None = None
    # Before every record id this mailbox gives (SH → SH-XQ-2026-0001): for a group whose
    # configuration serves several mailboxes (`mailboxes:`), so that ids never collide.
    id_prefix: str | None = None

    @field_validator("id_prefix")
    @classmethod
    def _prefix(cls, value: str | None) -> str | None:
        from collabd.ids import KINDS, VALID_PREFIX

        if value is None:
            return None
        if not VALID_PREFIX.match(value) or value in KINDS:
            raise ValueError("expected 2 to 6 capital letters (such as SH or BJ), not one "
                             f"of the record kinds {', '.join(KINDS)}")
        return value

    @field_validator("address", "bounce_address")
    @classmethod
    def _looks_like_address(cls, value: str | None) -> str | None:
        if value is not None and ("@" not in value or any(c in value for c in " \r\n<>")):
            raise ValueError("expected a bare e-mail address like collab@example.com")
        return value

    @property
    def domain(self) -> str:
        return self.address.rsplit("@", 1)[1]


class Paths(_Strict):
    rules: Path = Path("rules")
    templates: Path = Path("mail_templates")
    state: Path = Path("state")


class Daemon(_Strict):
    tick_seconds: int = Field(default=60, ge=1)
    poll_seconds: float = Field(default=2.0, gt=0)
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    send_max_attempts: int = Field(default=12, ge=1)
    send_backoff_seconds: float = Field(default=30.0, gt=0)
    send_backoff_max_seconds: float = Field(default=3600.0, gt=0)
    archive_after_days: int = Field(default=30, ge=0)


class TlsOptions(_Strict):
    # Certificate verification is on by default; a private CA is given as a bundle file.
    verify: bool = True
    ca_file: Path | None = None


# The enterprise mail providers collabd knows (collabd.providers): `collabd init
# --provider` writes the key, and a refused login then says what to do there.
ProviderKey = Literal["exmail", "aliyun", "netease", "feishu", "dingtalk"]


class ImapServer(TlsOptions):
    host: str
    provider: ProviderKey | None = None
    port: Port | None = None  # 993 with tls, 143 otherwise
    security: Literal["tls", "starttls", "none"] = "tls"
    username: str
    auth: Secret
    folder: str = "INBOX"
    # Processed mail is moved here (created if absent); "/" is the hierarchy separator
    # and is translated to the server's own.
    processed_folder: str = "collabd/processed"
    oversize_folder: str = "collabd/oversize"
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    idle: bool = True  # use IDLE where the server has it
    # Re-issued at least this often: inside RFC 2177's 29 minutes, and inside the idle
    # timeouts of NAT gateways and firewalls on the way.
    idle_renew_seconds: float = Field(default=5 * 60, gt=0, le=29 * 60)
    # And the mailbox is looked at (SELECT, UIDNEXT) at least this often even in IDLE:
    # a server can miss telling of mail that arrived just as the IDLE began (Dovecot
    # then waits for its own 30-second recheck), and mail must not wait for that.
    idle_recheck_seconds: float = Field(default=2.0, gt=0)
    timeout_seconds: float = Field(default=60.0, gt=0)

    @property
    def effective_port(self) -> int:
        return self.port or (993 if self.security == "tls" else 143)

    @model_validator(mode="after")
    def _has_secret(self) -> ImapServer:
        if not self.auth.given:
            raise ValueError("auth needs password_file, password_env, xoauth2_token_file "
                             "or xoauth2_token_env")
        return self


class SmtpServer(TlsOptions):
    host: str
    provider: ProviderKey | None = None
    port: Port | None = None  # 465 with tls, 587 otherwise
    security: Literal["tls", "starttls", "none"] = "starttls"
    username: str | None = None
    auth: Secret | None = None
    timeout_seconds: float = Field(default=60.0, gt=0)

    @property
    def effective_port(self) -> int:
        return self.port or (465 if self.security == "tls" else 587)


class OAuth2Client(_Strict):
    """OAuth2 client credentials (an app registration with full_access_as_app): for
    Exchange in a hybrid deployment that signs in through Microsoft Entra ID."""

    client_id: str
    tenant_id: str
    client_secret: Secret


class GraphServer(TlsOptions):
    """Exchange Online through Microsoft Graph, signed in as an application (client
    credentials) that an application access policy limits to the shared mailbox."""

    tenant_id: str  # the directory (tenant) id, or its domain (contoso.onmicrosoft.com)
    client_id: str  # the app registration's application (client) id
    client_secret: Secret | None = None  # password_file / password_env
    # Or a certificate: the PEM private key, and the thumbprint of the certificate
    # uploaded to the app registration.
    certificate_file: Path | None = None
    certificate_thumbprint: str | None = None
    cloud: Literal["global", "china"] = "global"  # china: operated by 21Vianet (世纪互联)
    # delta: delta query on the folder; received: a receivedDateTime listing (21Vianet's
    # cloud has no message delta); auto: received on china, else delta.
    sync: Literal["auto", "delta", "received"] = "auto"
    mailbox: str | None = None  # default: mailbox.address
    folder: str = "inbox"  # or a folder below it: "inbox/协作"
    processed_folder: str = "collabd/processed"  # below the inbox, created if absent
    oversize_folder: str = "collabd/oversize"
    failed_folder: str = "collabd/failed"
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    # How often the inbox is read: each delta call counts against the mailbox's budget.
    poll_seconds: float = Field(default=15.0, gt=0)
    # The longest throttling wait (Retry-After) waited out inside a call; a longer one
    # pauses the backend instead (the watchdog allows 120 s).
    max_wait_seconds: float = Field(default=30.0, ge=0, le=60)
    timeout_seconds: float = Field(default=30.0, gt=0, le=60)
    native_calendar: bool = True  # meetings as events, free/busy from getSchedule
    response_poll_seconds: float = Field(default=300.0, gt=0)

    @model_validator(mode="after")
    def _one_credential(self) -> GraphServer:
        if (self.client_secret is None) == (self.certificate_file is None):
            raise ValueError("give client_secret (password_file or password_env) or "
                             "certificate_file with certificate_thumbprint, one of them")
        if self.certificate_file is not None and not self.certificate_thumbprint:
            raise ValueError("certificate_file needs certificate_thumbprint (as the app "
                             "registration shows it)")
        return self


class EwsServer(TlsOptions):
    # https://mail.company.com/EWS/Exchange.asmx; without it, autodiscover from the
    # shared mailbox's address.
    service_endpoint: str | None = None
    auth_type: Literal["ntlm", "basic", "oauth2"] = "ntlm"
    username: str | None = None  # DOMAIN\\user or user@company: the service account
    auth: Secret | None = None  # its password (ntlm, basic) or an access token (oauth2)
    oauth2_client: OAuth2Client | None = None
    # delegate: the service account has FullAccess (and Send As) on the shared mailbox;
    # impersonation: it has the ApplicationImpersonation role.
    access: Literal["delegate", "impersonation"] = "delegate"
    folder: str = "inbox"  # or a folder below it: "inbox/协作"
    processed_folder: str = "collabd/processed"  # below the inbox, created if absent
    oversize_folder: str = "collabd/oversize"
    failed_folder: str = "collabd/failed"  # items Exchange cannot convert to MIME
    max_message_bytes: int = Field(default=25 * 1024 * 1024, ge=1024)
    # sync: SyncFolderItems; received: a datetime_received cursor, for a server where
    # sync is not available to the account.
    sync: Literal["sync", "received"] = "sync"
    # How often the inbox is synced: each sync counts against the account's EWS
    # throttling budget, so not every 2 s like the local backend.
    poll_seconds: float = Field(default=15.0, gt=0)
    native_calendar: bool = True  # meetings as calendar items, free/busy from Exchange
    response_poll_seconds: float = Field(default=300.0, gt=0)
    # The longest throttling back-off waited out inside a call; a longer one asked by
    # Exchange pauses the backend instead (the watchdog allows 120 s).
    max_wait_seconds: float = Field(default=30.0, ge=0, le=60)
    # Per HTTP request; several make one pass of the loop, which the watchdog allows 120 s.
    timeout_seconds: float = Field(default=30.0, gt=0, le=60)
    version: str | None = None  # e.g. "15.1" (2016) to skip version detection

    @field_validator("service_endpoint")
    @classmethod
    def _https(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("expected the EWS URL, like https://mail.example.com/EWS/"
                             "Exchange.asmx")
        return value

    @field_validator("version")
    @classmethod
    def _build(cls, value: str | None) -> str | None:
        if value is not None and not all(p.isdigit() for p in value.split(".")):
            raise ValueError("expected an Exchange build like 15.1 or 15.2.1118")
        return value

    @model_validator(mode="after")
    def _credentials(self) -> EwsServer:
        if self.auth_type == "oauth2":
            if self.oauth2_client is None and (self.auth is None or not self.auth.oauth2):
                raise ValueError("auth_type oauth2 needs auth.xoauth2_token_file (or _env) "
                                 "or an oauth2_client section")
        elif self.username is None or self.auth is None or not self.auth.given:
            raise ValueError(f"auth_type {self.auth_type} needs username and auth "
                             "(password_file or password_env)")
        return self


class FileSource(_Strict):
    """A contact list exported from an admin console (企业微信, 钉钉, 飞书) or any
    CSV/XLSX with a header row. `columns` names the header of each field where the
    export's own words are not among those collabd knows."""

    type: Literal["file"]
    path: Path
    format: Literal["wecom", "dingtalk", "feishu", "columns"] = "columns"
    columns: dict[Literal["name", "mail", "department", "manager"], str] = Field(
        default_factory=dict)
    sheet: str | None = None  # an .xlsx's sheet (default: the first)


FieldName = Literal["name", "mail", "department", "manager"]
# Active Directory's and inetOrgPerson's attribute for each field.
LDAP_ATTRIBUTES: dict[FieldName, str] = {"name": "displayName", "mail": "mail",
                                         "department": "department", "manager": "manager"}


class LdapSource(TlsOptions):
    """An LDAP directory or Active Directory, read with a paged search."""

    type: Literal["ldap"]
    url: str  # ldap://host:389 or ldaps://host:636
    starttls: bool = False
    bind_dn: str | None = None  # none: an anonymous bind
    auth: Secret | None = None
    base_dn: str
    filter: str = "(mail=*)"
    attributes: dict[Literal["name", "mail", "department", "manager"], str] = Field(
        default_factory=lambda: dict(LDAP_ATTRIBUTES))
    page_size: int = Field(default=500, ge=1, le=5000)
    timeout_seconds: float = Field(default=30.0, gt=0)

    @field_validator("url")
    @classmethod
    def _ldap_url(cls, value: str) -> str:
        if not value.lower().startswith(("ldap://", "ldaps://")):
            raise ValueError("expected ldap://host[:port] or ldaps://host[:port]")
        return value


class DirectorySettings(_Strict):
    """Where the company's people are listed (org.yaml keeps the roles): read at start
    and every `refresh_minutes`, the last good read kept in the state directory."""

    sources: list[Annotated[FileSource | LdapSource, Field(discriminator="type")]] = Field(
        default_factory=list)
    refresh_minutes: int = Field(default=60, ge=1)


class BoardSettings(_Strict):
    """The board (进度看板): `collabd board` serves it; `enabled` has the daemon serve it
    too. `url` is the address people open, put in the links mailed on `看板` (behind a
    reverse proxy, the proxy's https address). `trusted_header`: a header the proxy
    sets to the signed-in person's e-mail address, believed only from
    `trusted_proxies`."""

    enabled: bool = False
    listen: str = "127.0.0.1"
    port: Port = 8470
    url: str | None = None  # default: http://{listen}:{port}
    link_days: int = Field(default=7, ge=1, le=366)
    trusted_header: str | None = None
    trusted_proxies: list[str] = Field(default_factory=lambda: ["127.0.0.1/32", "::1/128"])
    refresh_seconds: float = Field(default=5.0, ge=0)

    @property
    def base_url(self) -> str:
        return (self.url or f"http://{self.listen}:{self.port}").rstrip("/")

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        import ipaddress

        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value


class PostgresStore(_Strict):
    """`store: postgresql`: the state in a PostgreSQL database (collabd.store.pg)."""

    # libpq connection string or URI, without the password
    dsn: str
    auth: Secret | None = None
    # Which mailbox's state this is (several share one database): default the address.
    space: str | None = None
    # A standby takes over within this long after the leader dies or loses the database.
    takeover_seconds: float = Field(default=15.0, ge=2, le=600)
    # This process's name in `collabd status` (default host:pid).
    node: str | None = None

    @field_validator("dsn")
    @classmethod
    def _no_password_in_dsn(cls, value: str) -> str:
        from psycopg.conninfo import conninfo_to_dict

        try:
            parts = conninfo_to_dict(value)
        except Exception as exc:
            raise ValueError(f"not a PostgreSQL connection string: {exc}") from None
        if parts.get("password"):
            raise ValueError(
                "a password is never written in the YAML; give it under auth: "
                "(password_file: or password_env:)")
        return value


class Settings(_Strict):
    mailbox: Mailbox
    backend: Literal["local", "imap", "ews", "graph"] = "local"
    local: LocalBackend = LocalBackend()
    imap: ImapServer | None = None
    smtp: SmtpServer | None = None
    ews: EwsServer | None = None
    graph: GraphServer | None = None
    timezone: str = DEFAULT_TZ
    paths: Paths = Paths()
    daemon: Daemon = Daemon()
    board: BoardSettings = BoardSettings()
    directory: DirectorySettings = DirectorySettings()
    store: Literal["embedded", "postgresql"] = "embedded"
    postgresql: PostgresStore | None = None

    @model_validator(mode="after")
    def _backend_settings(self) -> Settings:
        if self.store == "postgresql" and self.postgresql is None:
            raise ValueError("store postgresql needs the postgresql section (dsn:)")
        if self.backend == "imap" and (self.imap is None or self.smtp is None):
            missing = " and ".join(k for k in ("imap", "smtp") if getattr(self, k) is None)
            raise ValueError(f"backend imap needs the {missing} section(s)")
        if self.backend == "ews" and self.ews is None:
            raise ValueError("backend ews needs the ews section")
        if self.backend == "graph" and self.graph is None:
            raise ValueError("backend graph needs the graph section")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"expected an IANA timezone name such as {DEFAULT_TZ}") from None
        return value


class Config:
    """Settings plus where they were read from; relative paths are relative to the file.

    A file with `mailboxes:` serves several shared mailboxes: each entry is a whole set
    of settings over the shared ones at the top (a section it names replaces the same
    keys of the shared section). Its Config is the first mailbox's, with `group` holding
    every mailbox's and `name` each one's."""

    def __init__(self, settings: Settings, path: Path, *, name: str | None = None) -> None:
        self.settings = settings
        self.path = path
        self.base_dir = path.parent
        self.name = name or settings.mailbox.address
        self.group: list[Config] = [self]
        if settings.mailbox.id_prefix:
            from collabd.ids import know_prefix

            know_prefix(settings.mailbox.id_prefix)  # (read as part of an id from now on)

    def mailbox(self, wanted: str) -> Config | None:
        """One mailbox of the group by its name, address or id prefix."""
        key = wanted.strip().lower()
        return next((c for c in self.group
                     if key in (c.name.lower(), c.settings.mailbox.address.lower(),
                                (c.settings.mailbox.id_prefix or "").lower())), None)

    def _resolve(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.base_dir / p)

    @property
    def rules_dir(self) -> Path:
        return self._resolve(self.settings.paths.rules)

    @property
    def templates_dir(self) -> Path:
        return self._resolve(self.settings.paths.templates)

    @property
    def state_dir(self) -> Path:
        return self._resolve(self.settings.paths.state)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.settings.timezone)


def load_config(path: Path | None = None) -> Config:
    path = (path or default_config_path()).absolute()
    if not path.exists():
        raise ConfigError([
            f"{path}: file not found (create a deployment with `collabd init DIR`, then pass "
            f"--config DIR/{CONFIG_NAME} or set {CONFIG_ENV})"
        ])
    data, source = load_yaml(path)
    if not isinstance(data, dict):
        raise ConfigError([f"{source.where(())}: expected a mapping of settings at the top"])
    if "mailboxes" in data:
        return _group(data, source, path)
    settings = validate(Settings, data, source)
    assert isinstance(settings, Settings)
    return Config(settings, path)


def _group(data: dict[str, Any], source: Any, path: Path) -> Config:
    """The mailboxes of a file with `mailboxes:` (Config's docstring)."""
    entries = data["mailboxes"]
    where = source.where(("mailboxes",))
    if not isinstance(entries, list) or not entries:
        raise ConfigError([f"{where}: mailboxes: expected a list of mailboxes, each with "
                           "its mailbox:, backend and paths:"])
    shared = {k: v for k, v in data.items() if k != "mailboxes"}
    configs: list[Config] = []
    problems: list[str] = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            problems.append(f"{source.where(('mailboxes', i))}: mailboxes[{i}]: expected a "
                            "mapping of settings")
            continue
        name = entry.get("name")
        own = {k: v for k, v in entry.items() if k != "name"}
        merged = dict(shared)
        for key, value in own.items():
            base = merged.get(key)
            merged[key] = ({**base, **value} if isinstance(base, dict)
                           and isinstance(value, dict) else value)

        def locate(loc: tuple[Any, ...], i: int = i, own: dict[str, Any] = own
                   ) -> tuple[Any, ...]:
            mine = bool(loc) and loc[0] in own and (
                len(loc) == 1 or not isinstance(own[loc[0]], dict) or loc[1] in own[loc[0]])
            return ("mailboxes", i, *loc) if mine else loc

        try:
            settings = validate(Settings, merged, source, locate=locate)
        except ConfigError as exc:
            problems.extend(exc.problems)
            continue
        prefix = settings.mailbox.id_prefix
        configs.append(Config(settings, path, name=str(name) if name else (
            prefix.lower() if prefix else settings.mailbox.address)))
    if problems:
        raise ConfigError(problems)
    problems += _group_problems(configs, where)
    if problems:
        raise ConfigError(problems)
    for config in configs:
        config.group = configs
    return configs[0]


def _group_problems(configs: list[Config], where: str) -> list[str]:
    """Mailboxes of one configuration must not share what keeps them apart."""
    problems = []

    def twice(what: str, values: list[str], among: list[Config] | None = None) -> None:
        among = configs if among is None else among
        for value in sorted({v for v in values if values.count(v) > 1}):
            names = ", ".join(c.name for c, v in zip(among, values, strict=True)
                              if v == value)
            problems.append(f"{where}: mailboxes: {names} have the same {what} "
                            f"{value!r}; each needs its own")

    twice("name", [c.name.lower() for c in configs])
    twice("address", [c.settings.mailbox.address.lower() for c in configs])
    if len(configs) > 1:
        missing = [c.name for c in configs if not c.settings.mailbox.id_prefix]
        if missing:
            problems.append(f"{where}: mailboxes: {', '.join(missing)} need(s) mailbox.id_prefix "
                            "(such as SH): with several mailboxes, record ids must tell "
                            "them apart")
        prefixed = [c for c in configs if c.settings.mailbox.id_prefix]
        twice("id_prefix", [c.settings.mailbox.id_prefix or "" for c in prefixed], prefixed)
        # (on PostgreSQL too: the directory read, the board's key and the local
        # backend's Maildirs are each mailbox's own)
        twice("state directory (paths.state)", [str(c.state_dir) for c in configs])
        pg = [c for c in configs if c.settings.store == "postgresql"]
        twice("PostgreSQL space (postgresql.space, default the address)",
              [_space(c) for c in pg], pg)
        boards = [c for c in configs if c.settings.board.enabled]
        twice("board port (board.listen and board.port)",
              [f"{c.settings.board.listen}:{c.settings.board.port}" for c in boards], boards)
        local = [c for c in configs if c.settings.backend == "local"]
        twice("SMTP listener (local.listen_host and local.listen_port)",
              [f"{c.settings.local.listen_host}:{c.settings.local.listen_port}"
               for c in local], local)
    return problems


def _space(config: Config) -> str:
    from collabd.store.backend import space_of

    return space_of(config)
