"""The org directory from where it already lives: a real OpenLDAP (Debian's slapd on a
loopback port, from a throwaway configuration), and contact lists in the layouts the
WeCom, DingTalk and Feishu admin consoles export. Their people are known people;
org.yaml keeps the roles, checked against them; a colleague of the company's own mail
domain in no source is accepted as requester of the department they name, and the
secretary is told once."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pytest

from collabd.config import FileSource, LdapSource, Secret, load_config
from collabd.errors import CollabdError
from collabd.policy import sources
from helpers import Harness, body_text, collabd, default_rules, make_deployment, message
from servers import Slapd

pytestmark = pytest.mark.integration

REQUEST = ("发起部门：研发部\n发起人：{name}\n接收部门：财务部\n"
           "需求背景与目标：核对研发费用。\n具体需求内容：导出11月研发费用明细。\n"
           "期望完成时间：2026-12-20\n交付标准：明细表经研发部确认。\n")


@pytest.fixture(scope="module")
def slapd() -> Iterator[Slapd]:
    server = Slapd().start()
    yield server
    server.close()


def _ldap(slapd: Slapd, **changes: object) -> LdapSource:
    values: dict[str, object] = {
        "type": "ldap", "url": slapd.url, "bind_dn": Slapd.ROOT_DN,
        "auth": Secret(password_env="COLLABD_TEST_LDAP_PASSWORD"),
        "base_dn": f"ou=staff,{Slapd.SUFFIX}", "filter": "(objectClass=inetOrgPerson)",
        "attributes": {"name": "displayName", "mail": "mail", "department": "ou",
                       "manager": "manager"},
        "page_size": 3}
    values.update(changes)
    return LdapSource.model_validate(values)


def test_people_are_read_from_ldap_page_by_page(slapd: Slapd, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLLABD_TEST_LDAP_PASSWORD", Slapd.ROOT_PASSWORD)
    head = slapd.add_person("zhaoq", "赵强", "zhao.qiang@example.com", "研发部")
    for n in range(7):  # more than two pages of 3
        slapd.add_person(f"dev{n}", f"开发{n}", f"dev{n}@example.com", "总部/研发部/平台组",
                         manager=head)
    slapd.add_person("dc1", "机房值班", "dc1@example.com", "数据中心")
    members = sources.read_ldap(_ldap(slapd), tmp_path)
    by = {m.address: m for m in members}
    assert len(members) == 9 and by["dev6@example.com"].name == "开发6"
    assert by["dev0@example.com"].departments == ("总部/研发部/平台组",)
    assert by["dev0@example.com"].manager == head
    directory = sources.merge(default_rules().directory, members)
    dev = directory.by_address("DEV3@example.com")
    assert dev is not None and dev.department == "研发部"  # its path's org.yaml department
    assert directory.department_of("dev3@example.com").name == "研发部"  # type: ignore[union-attr]
    outside = directory.by_address("dc1@example.com")
    assert outside is not None and outside.department is None  # known, no department
    # org.yaml's entries stay as org.yaml has them (roles, aliases)
    assert directory.by_address("zhao.qiang@example.com").roles == {"head"}  # type: ignore[union-attr]
    # a wrong password is an error that names the server
    monkeypatch.setenv("COLLABD_TEST_LDAP_PASSWORD", "wrong")
    with pytest.raises(CollabdError, match=slapd.url):
        sources.read_ldap(_ldap(slapd), tmp_path)


def _xlsx(rows: list[list[str]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# The layouts of the consoles' member exports: a title row above the header, the
# department as a path, several departments in one cell, members without a mail.
LAYOUTS = {
    "wecom": ("成员.xlsx", [["成员列表（导出时间：2026-11-30）"],
                            ["姓名", "账号", "别名", "职务", "部门", "性别", "手机", "企业邮箱"],
                            ["吴桐", "wutong", "", "工程师", "示例公司/研发部/平台组", "女",
                             "138", "wu.tong@example.com"],
                            ["钱多", "qianduo", "", "会计", "示例公司/财务部;示例公司/运营部", "男",
                             "139", "qian.duo@example.com"],
                            ["实习生", "intern", "", "", "示例公司/研发部", "男", "137", ""]]),
    "dingtalk": ("通讯录.csv", [["姓名", "工号", "职位", "手机号", "部门", "办公邮箱"],
                               ["吴桐", "1001", "工程师", "138", "示例公司-研发部-平台组",
                                "wu.tong@example.com"],
                               ["钱多", "1002", "会计", "139", "示例公司-财务部",
                                "QIAN.DUO@example.com"]]),
    "feishu": ("成员与部门.xlsx", [["姓名", "用户 ID", "部门", "企业邮箱", "直属上级"],
                                   ["吴桐", "ou_1", "示例公司/研发部", "wu.tong@example.com",
                                    "赵强"],
                                   ["钱多", "ou_2", "示例公司/财务部", "qian.duo@example.com",
                                    ""]]),
}


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_console_exports_are_read(tmp_path: Path, layout: str) -> None:
    name, rows = LAYOUTS[layout]
    path = tmp_path / name
    if name.endswith(".xlsx"):
        path.write_bytes(_xlsx(rows))
    else:  # DingTalk's CSV comes in GBK
        text = io.StringIO()
        csv.writer(text).writerows(rows)
        path.write_bytes(text.getvalue().encode("gb18030"))
    members = sources.read_file(FileSource(type="file", path=Path(name), format=layout),  # type: ignore[arg-type]
                                tmp_path)
    assert [(m.name, m.address) for m in members] == [
        ("吴桐", "wu.tong@example.com"), ("钱多", "qian.duo@example.com")]
    directory = sources.merge(default_rules().directory, members)
    assert directory.by_address("wu.tong@example.com").department == "研发部"  # type: ignore[union-attr]
    assert directory.by_address("qian.duo@example.com").department == "财务部"  # type: ignore[union-attr]


def test_a_file_without_the_columns_says_what_to_name(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("员工,联系方式\n张三,zhang@example.com\n", encoding="utf-8")
    source = FileSource(type="file", path=Path("x.csv"))
    with pytest.raises(CollabdError, match="columns"):
        sources.read_file(source, tmp_path)
    named = FileSource(type="file", path=Path("x.csv"), columns={"name": "员工",
                                                                  "mail": "联系方式"})
    assert [m.address for m in sources.read_file(named, tmp_path)] == ["zhang@example.com"]


def _deployment_with_file(tmp_path: Path, rows: list[list[str]]) -> Path:
    config = make_deployment(tmp_path / "deploy", extra_yaml=(
        "directory:\n  sources:\n    - type: file\n      path: contacts.csv\n"))
    with (config.path.parent / "contacts.csv").open("w", encoding="utf-8-sig",
                                                    newline="") as fh:
        csv.writer(fh).writerows([["姓名", "部门", "邮箱"], *rows])
    return config.path


def test_directory_people_file_requests_and_an_unlisted_colleague_is_accepted(
        tmp_path: Path) -> None:
    path = _deployment_with_file(tmp_path, [["吴桐", "总部/研发部", "wu.tong@example.com"]])
    h = Harness(load_config(path), "2026-12-01 10:00")
    try:
        sent = h.at("2026-12-01 10:05", message(
            sender="吴桐 <wu.tong@example.com>", subject="需求表：研发费用",
            body=REQUEST.format(name="吴桐"), message_id="<d1@example.com>"))
        assert "需求已受理" in " ".join(str(m["Subject"]) for m in sent)
        record = h.record("XQ-2026-0001")
        assert record["requester"]["address"] == "wu.tong@example.com"
        assert record["requester"]["dept"] == "研发部"
        assert not [m for m in sent if "组织目录中没有" in str(m["Subject"])]
        # In no source, but of the company's own domain: accepted, the secretary told
        sent = h.at("2026-12-01 10:10", message(
            sender="新同事 <new.hire@example.com>", subject="需求表：研发费用二",
            body=REQUEST.format(name="新同事"), message_id="<d2@example.com>"))
        assert any("需求已受理" in str(m["Subject"]) for m in sent)
        told = [m for m in sent if "组织目录中没有" in str(m["Subject"])]
        assert [str(m["To"]) for m in told] == ["李静 <li.jing@example.com>"]
        assert "XQ-2026-0002" in body_text(told[0]) and "研发部" in body_text(told[0])
        assert h.record("XQ-2026-0002")["requester"]["address"] == "new.hire@example.com"
        again = h.at("2026-12-01 10:20", message(
            sender="新同事 <new.hire@example.com>", subject="需求表：研发费用三",
            body=REQUEST.format(name="新同事"), message_id="<d3@example.com>"))
        assert not [m for m in again if "组织目录中没有" in str(m["Subject"])]  # once
        # From outside the company: refused as before
        stranger = h.at("2026-12-01 10:30", message(
            sender="x <x@elsewhere.test>", subject="需求表：研发费用四",
            body=REQUEST.format(name="某人"), message_id="<d4@example.com>"))
        assert not any("需求已受理" in str(m["Subject"]) for m in stranger)
    finally:
        h.close()


def test_check_reads_the_sources_and_warns_of_a_head_who_has_left(
        slapd: Slapd, tmp_path: Path) -> None:
    config = make_deployment(tmp_path / "deploy", extra_yaml=f"""\
directory:
  sources:
    - type: ldap
      url: {slapd.url}
      bind_dn: "{Slapd.ROOT_DN}"
      auth:
        password_file: ldap.secret
      base_dn: "ou=staff,{Slapd.SUFFIX}"
      filter: "(objectClass=inetOrgPerson)"
      attributes: {{name: displayName, mail: mail, department: ou}}
""")
    (config.path.parent / "ldap.secret").write_text(Slapd.ROOT_PASSWORD + "\n",
                                                    encoding="utf-8")
    result = collabd("check", "--offline", config=load_config(config.path))
    # --offline: the mail server and the directory are not contacted
    assert "directory:" not in result.stdout.decode()
    result = collabd("check", config=load_config(config.path), check=False)
    out = result.stdout.decode()
    assert "directory:" in out and "people from 1 source(s)" in out
    # 王建国 (组长) and most of org.yaml are in no source of this test's LDAP
    assert "warning: org.yaml: 组长 王建国 <wang.jianguo@example.com> is in no directory" in out


def test_the_last_good_read_is_kept_when_the_source_fails(tmp_path: Path) -> None:
    path = _deployment_with_file(tmp_path, [["吴桐", "研发部", "wu.tong@example.com"]])
    config = load_config(path)
    members, problem = sources.refresh(config)
    assert problem is None and [m.address for m in members] == ["wu.tong@example.com"]
    (path.parent / "contacts.csv").unlink()  # the export is gone (or LDAP is down)
    members, problem = sources.refresh(config)
    assert problem is not None and "contacts.csv" in problem
    assert [m.address for m in members] == ["wu.tong@example.com"]  # the last good read


def test_ldaps_and_starttls_verify_the_servers_certificate(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    trustme = pytest.importorskip("trustme", reason="trustme makes the test certificates")
    ca = trustme.CA()
    server = Slapd(ca=ca).start()
    try:
        monkeypatch.setenv("COLLABD_TEST_LDAP_PASSWORD", Slapd.ROOT_PASSWORD)
        server.add_person("tls1", "加密", "tls1@example.com", "研发部")
        ca.cert_pem.write_to_path(str(tmp_path / "corp-ca.pem"))
        for source in (_ldap(server, url=server.ldaps_url, ca_file=Path("corp-ca.pem")),
                       _ldap(server, starttls=True, ca_file=Path("corp-ca.pem"))):
            assert [m.address for m in sources.read_ldap(source, tmp_path)] == [
                "tls1@example.com"]
        # Without the company's CA the certificate is not trusted: refused, not read.
        with pytest.raises(CollabdError, match=server.ldaps_url):
            sources.read_ldap(_ldap(server, url=server.ldaps_url), tmp_path)
    finally:
        server.close()


def test_a_damaged_export_is_said_and_the_last_good_read_goes_on(tmp_path: Path) -> None:
    config = make_deployment(tmp_path / "deploy", extra_yaml=(
        "directory:\n  sources:\n    - type: file\n      path: 成员.xlsx\n"
        "      format: wecom\n"))
    rows = LAYOUTS["wecom"][1]
    export = config.path.parent / "成员.xlsx"
    export.write_bytes(_xlsx(rows))
    members, problem = sources.refresh(load_config(config.path))
    assert problem is None and len(members) == 2
    export.write_bytes(b"PK\x03\x04 not really a workbook" + bytes(range(256)) * 8)
    members, problem = sources.refresh(load_config(config.path))
    assert problem is not None and "cannot be read as an .xlsx workbook" in problem
    assert len(members) == 2  # the last good read
    # The daemon starts and runs on it; check says what is wrong instead of a traceback
    h = Harness(load_config(config.path), "2026-12-01 10:00")
    try:
        assert h.daemon.rules.directory.by_address("wu.tong@example.com") is not None
    finally:
        h.close()
    result = collabd("check", config=load_config(config.path), check=False)
    assert result.returncode != 0 and "Traceback" not in result.stderr.decode()
    assert "cannot be read as an .xlsx workbook" in result.stdout.decode() + \
        result.stderr.decode()


def test_a_named_column_must_be_there(tmp_path: Path) -> None:
    (tmp_path / "x.csv").write_text("姓名,工作邮箱\n张三,zhang@example.com\n", encoding="utf-8")
    source = FileSource(type="file", path=Path("x.csv"), columns={"mail": "电邮"})
    with pytest.raises(CollabdError, match="no column mail: 电邮"):
        sources.read_file(source, tmp_path)


def test_a_listed_person_outside_the_departments_is_told_to_name_one(tmp_path: Path) -> None:
    path = _deployment_with_file(tmp_path, [["宋佳", "示例公司/行政部", "song.jia@example.com"]])
    h = Harness(load_config(path), "2026-12-01 10:00")
    try:
        sent = h.at("2026-12-01 10:05", message(
            sender="宋佳 <song.jia@example.com>", subject="需求表：会议室预订",
            body=REQUEST.format(name="宋佳").replace("发起部门：研发部\n", ""),
            message_id="<d-song@example.com>"))
        text = " ".join(body_text(m) for m in sent)
        assert "在通讯录中的部门不是协作部门" in text and "不在组织目录中" not in text
    finally:
        h.close()


def test_from_outside_in_a_colleagues_name_is_not_filed(tmp_path: Path) -> None:
    h = Harness(make_deployment(tmp_path / "deploy"), "2026-12-01 10:00")
    try:
        sent = h.at("2026-12-01 10:05", message(
            sender="x <evil@elsewhere.test>", subject="需求表：研发费用",
            body=REQUEST.format(name="赵强"), message_id="<d-evil@example.com>"))
        assert not any("需求已受理" in str(m["Subject"]) for m in sent)
        assert not [r for r in h.daemon.store.values("records") if r.get("kind") == "request"]
        assert "与发件人" in " ".join(body_text(m) for m in sent)
    finally:
        h.close()


def test_a_read_that_lists_nobody_keeps_the_last_good_one(tmp_path: Path) -> None:
    path = _deployment_with_file(tmp_path, [["吴桐", "研发部", "wu.tong@example.com"]])
    config = load_config(path)
    assert [m.address for m in sources.refresh(config)[0]] == ["wu.tong@example.com"]
    (path.parent / "contacts.csv").write_text("姓名,部门,邮箱\n", encoding="utf-8")
    members, problem = sources.refresh(config)
    assert problem is not None and "list nobody" in problem
    assert [m.address for m in members] == ["wu.tong@example.com"]


def test_a_problem_from_outside_in_a_colleagues_name_is_not_filed(tmp_path: Path) -> None:
    h = Harness(make_deployment(tmp_path / "deploy"), "2026-12-01 10:00")
    try:
        sent = h.at("2026-12-01 10:05", message(
            sender="x <evil@elsewhere.test>", subject="问题反馈单：报表口径",
            body="问题标题：报表口径不一致\n反馈人：赵强\n反馈部门：研发部\n涉及部门：财务部\n"
                 "问题描述：口径不一致。\n严重程度：重大\n",
            message_id="<d-evil-problem@example.com>"))
        assert not [r for r in h.daemon.store.values("records") if r.get("kind") == "problem"]
        assert "与发件人" in " ".join(body_text(m) for m in sent)
    finally:
        h.close()
