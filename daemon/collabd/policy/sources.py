"""The org directory from where it already lives. `org.yaml` keeps the roles (the
coordination group, each department's head and liaison); the company's people come
from its directory — LDAP / Active Directory, or a contact list exported from the
WeCom (企业微信), DingTalk (钉钉) or Feishu (飞书) admin console — read at start and
every `refresh_minutes`, the last good read kept in the state directory (a restart
while the LDAP server is down still knows everyone).

A member is a known person: a requester, receiver, attendee, one who may sign what
they were asked to. Their department is the first department of org.yaml (by name or
alias) found in their department path, deepest first (总部/研发部/前端组 → 研发部);
someone in none of them is known without a department.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
import logging
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from collabd.errors import CollabdError
from collabd.policy.org import Department, Directory, Person

if TYPE_CHECKING:
    from collabd.config import Config, FileSource, LdapSource
    from collabd.policy.rules import Rules

log = logging.getLogger("collabd.directory")
CACHE = "directory.json"

# The header words each console's export uses for a field, in the order tried: WeCom
# (管理后台 → 通讯录 → 导出成员), DingTalk (管理后台 → 通讯录 → 成员管理 → 批量导出),
# Feishu (管理后台 → 组织架构 → 成员与部门 → 批量导出); "columns" knows them all.
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    # (not 个人邮箱: a private address is not a colleague's identity)
    "wecom": {"name": ("姓名",), "mail": ("企业邮箱", "邮箱"),
              "department": ("部门",), "manager": ("直属上级", "上级")},
    "dingtalk": {"name": ("姓名",), "mail": ("企业邮箱", "办公邮箱", "邮箱"),
                 "department": ("部门",), "manager": ("直属主管", "主管")},
    "feishu": {"name": ("姓名", "名称"), "mail": ("企业邮箱", "工作邮箱", "邮箱"),
               "department": ("部门", "所属部门"), "manager": ("直属上级", "上级")},
}
HEADERS["columns"] = {
    field: tuple(dict.fromkeys(word for f in HEADERS.values() for word in f[field]))
    + extra for field, extra in (("name", ("名字", "name", "Name", "displayName")),
                                 ("mail", ("电子邮箱", "email", "Email", "E-mail", "mail")),
                                 ("department", ("部门路径", "department", "Department")),
                                 ("manager", ("manager", "Manager")))}
_ADDRESS = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


@dataclass(frozen=True)
class Member:
    name: str
    address: str
    departments: tuple[str, ...] = ()  # paths, as the source writes them
    manager: str | None = None
    source: str = ""


# -- files ---------------------------------------------------------------------------

def _rows(path: Path, sheet: str | None) -> list[list[str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            ws = book[sheet] if sheet else book.worksheets[0]
        except KeyError:
            raise CollabdError(f"{path}: no sheet {sheet!r} ({', '.join(book.sheetnames)})"
                               ) from None
        rows = [["" if v is None else str(v).strip() for v in row]
                for row in ws.iter_rows(values_only=True)]
        book.close()
        return rows
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):  # consoles export UTF-8 (BOM) or GBK
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise CollabdError(f"{path}: neither UTF-8 nor GBK text")
    return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text))]


def read_file(source: FileSource, base_dir: Path) -> list[Member]:
    path = source.path if source.path.is_absolute() else base_dir / source.path
    try:
        rows = _rows(path, source.sheet)
    except CollabdError:
        raise
    except OSError as exc:
        raise CollabdError(f"directory file {path}: {exc.strerror or exc}") from exc
    except Exception as exc:  # a damaged .xlsx: openpyxl's and zipfile's own errors
        kind = "an .xlsx workbook" if path.suffix.lower() in (".xlsx", ".xlsm") else "CSV"
        raise CollabdError(f"directory file {path}: cannot be read as {kind} "
                           f"({type(exc).__name__}: {exc})") from exc
    words = {field: ((source.columns[field],) if field in source.columns else ())
             + HEADERS[source.format][field] for field in ("name", "mail", "department",
                                                            "manager")}
    # The header row: the first (of ten: exports put a title and notes above it) with
    # a name and a mail column.
    heads = [(index, {field: next((row.index(w) for w in options if w in row), None)
                      for field, options in words.items()})
             for index, row in enumerate(rows[:10])]
    header = next(((i, f) for i, f in heads if f["name"] is not None and f["mail"] is not None),
                  None)
    if header is None:
        raise CollabdError(f"directory file {path}: no header row with a name column "
                           f"({'/'.join(words['name'][:3])}) and a mail column "
                           f"({'/'.join(words['mail'][:3])}) in its first ten rows; name "
                           "them with `columns:`")
    index, found = header
    missing = [f"{field}: {word}" for field, word in source.columns.items()
               if word not in rows[index]]
    if missing:
        raise CollabdError(f"directory file {path}: no column {', '.join(missing)} in its "
                           f"header row ({', '.join(c for c in rows[index] if c)})")
    members, skipped = [], 0

    def cell(row: list[str], field: str) -> str:
        column = found[field]
        return row[column].strip() if column is not None and column < len(row) else ""

    for row in rows[index + 1:]:
        name, address = cell(row, "name"), cell(row, "mail").lower()
        if not _ADDRESS.match(address):
            skipped += int(bool(name or address))
            continue
        paths = tuple(p.strip() for p in re.split(r"[;；,，\n]", cell(row, "department"))
                      if p.strip())
        members.append(Member(name or address, address, paths,
                              cell(row, "manager") or None, f"file:{path.name}"))
    if skipped:
        log.debug("directory file %s: %d row(s) without a usable mail address left out",
                  path, skipped)
    return members


# -- LDAP ----------------------------------------------------------------------------

def _value(entry: Any, attribute: str) -> str:
    value = entry.get(attribute) if hasattr(entry, "get") else None  # (ldap3's own dict)
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value).strip() if value not in (None, "") else ""


def read_ldap(source: LdapSource, base_dir: Path) -> list[Member]:
    import ssl

    import ldap3
    from ldap3.core.exceptions import LDAPException

    attrs = source.attributes
    tls = None
    if source.url.lower().startswith("ldaps://") or source.starttls:
        ca = source.ca_file if source.ca_file is None or source.ca_file.is_absolute() \
            else base_dir / source.ca_file
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED if source.verify else ssl.CERT_NONE,
                        ca_certs_file=str(ca) if ca else None)
    password = source.auth.resolve(base_dir) if source.auth is not None else None
    try:
        server = ldap3.Server(source.url, tls=tls, connect_timeout=source.timeout_seconds)
        conn = ldap3.Connection(server, user=source.bind_dn, password=password,
                                receive_timeout=max(1, int(source.timeout_seconds)),
                                raise_exceptions=True,
                                auto_bind=(ldap3.AUTO_BIND_TLS_BEFORE_BIND if source.starttls
                                           else ldap3.AUTO_BIND_NO_TLS))
        entries = conn.extend.standard.paged_search(
            source.base_dn, source.filter, attributes=sorted(set(attrs.values())),
            paged_size=source.page_size, generator=True)
        members = []
        for entry in entries:
            if entry.get("type") != "searchResEntry":
                continue
            values = entry.get("attributes") or {}
            address = _value(values, attrs.get("mail", "mail")).lower()
            if not _ADDRESS.match(address):
                continue
            manager = _value(values, attrs.get("manager", "manager")) or None
            department = _value(values, attrs.get("department", "department"))
            members.append(Member(_value(values, attrs.get("name", "displayName")) or address,
                                  address, (department,) if department else (), manager,
                                  f"ldap:{source.url}"))
        conn.unbind()
    except LDAPException as exc:
        said = str(exc)
        if "invalidCredentials" in said:
            said = f"bind as {source.bind_dn} refused (invalid credentials): check bind_dn " \
                   "and the password in auth"
        elif "noSuchObject" in said:
            said = f"base_dn {source.base_dn} does not exist on the server"
        raise CollabdError(f"LDAP {source.url}: {said}") from exc
    return members


# -- merging -------------------------------------------------------------------------

def department_of(directory: Directory, paths: Sequence[str]) -> Department | None:
    """The first org.yaml department found in the paths, the deepest part first."""
    for path in paths:
        for part in reversed([p for p in re.split(r"[/\\>＞-]", path) if p.strip()]):
            found = directory.department(part.strip())
            if found is not None:
                return found
    return None


def merge(directory: Directory, members: Iterable[Member]) -> Directory:
    """The directory with the sources' people added: members of their department, or
    known without one. Someone org.yaml lists keeps org.yaml's entry."""
    listed = {p.address.lower() for p in directory.people()}
    listed |= {a.lower() for p in directory.people() for a in p.aliases if "@" in a}
    extra: dict[str, list[Person]] = {}
    others: list[Person] = []
    for member in members:
        if member.address in listed:
            continue
        listed.add(member.address)
        dept = department_of(directory, member.departments)
        person = Person(member.name, member.address, dept.name if dept else None,
                        frozenset({"member"}))
        if dept is None:
            others.append(person)
        else:
            extra.setdefault(dept.name, []).append(person)
    departments = [dataclasses.replace(d, members=(*d.members, *extra.get(d.name, [])))
                   for d in directory.departments]
    return Directory(departments, directory.leader, directory.secretary,
                     [*directory.others, *others])


def with_members(rules: Rules, members: Iterable[Member]) -> Rules:
    members = list(members)
    if not members:
        return rules
    return dataclasses.replace(rules, directory=merge(rules.directory, members))


# -- reading and keeping -------------------------------------------------------------

def read_all(config: Config) -> list[Member]:
    """Every source, now. One that fails fails the read (a partial list would make
    everyone in the failed source a stranger)."""
    members: list[Member] = []
    for source in config.settings.directory.sources:
        if source.type == "file":
            members += read_file(source, config.base_dir)
        else:
            members += read_ldap(source, config.base_dir)
    return members


def save(state_dir: Path, members: list[Member]) -> None:
    path = state_dir / CACHE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps([dataclasses.asdict(m) for m in members], ensure_ascii=False),
                   encoding="utf-8")
    with tmp.open("rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def load(state_dir: Path) -> list[Member]:
    try:
        data = json.loads((state_dir / CACHE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [Member(d["name"], d["address"], tuple(d.get("departments") or ()),
                   d.get("manager"), d.get("source", "")) for d in data]


def read_usable(config: Config) -> list[Member]:
    """Every source, now, as something the daemon may use instead of its last good
    read; CollabdError saying why not (whatever a source does)."""
    try:
        members = read_all(config)
    except CollabdError:
        raise
    except Exception as exc:  # a source's own failure: said, not a traceback
        log.debug("reading the directory sources failed", exc_info=True)
        raise CollabdError(f"{type(exc).__name__}: {exc}") from exc
    if not members:
        # A filter or base that matches nobody, an export with only its header: not a
        # company without people. Everyone would become a stranger.
        raise CollabdError("the sources list nobody (check the LDAP filter and base_dn, "
                           "or the export)")
    return members


def refresh(config: Config) -> tuple[list[Member], str | None]:
    """Read the sources and keep what was read; when they cannot be read, the last good
    read, and why not."""
    if not config.settings.directory.sources:
        return [], None
    try:
        members = read_usable(config)
    except CollabdError as exc:
        return load(config.state_dir), str(exc)
    save(config.state_dir, members)
    return members, None


def departed(rules: Rules, members: Sequence[Member]) -> list[str]:
    """The people org.yaml gives a role who are in no source any more (left the
    company, or their address changed)."""
    if not members:
        return []
    present = {m.address for m in members}
    out = []
    directory = rules.directory
    roles = [("组长", directory.leader), ("执行秘书", directory.secretary)]
    for dept in directory.departments:
        roles += [(f"{dept.name}负责人", dept.head), (f"{dept.name}对接人", dept.liaison)]
    for role, person in roles:
        addresses = {person.address.lower(), *(a.lower() for a in person.aliases if "@" in a)}
        if not addresses & present:
            out.append(f"{role} {person.name} <{person.address}> is in no directory source "
                       "(left the company, or a changed address?): change org.yaml")
    return out
