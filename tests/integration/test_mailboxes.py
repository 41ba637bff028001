"""One configuration that serves several shared mailboxes (`mailboxes:`): each with its
own state, backend and record-id prefix, served by one process (or one each, with
--mailbox); records never mix, embedded or in one PostgreSQL database."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path

import pytest

from collabd.config import Config, ConfigError, load_config
from helpers import (
    DaemonProcess,
    collabd,
    finance_request,
    free_port,
    make_deployment,
    message,
    sent_messages,
    wait_until,
)
from servers import Postgres

pytestmark = pytest.mark.integration

BJ = "collab-bj@example.com"


def group(root: Path, *, store: str = "") -> Config:
    """A deployment made by init (rules, templates), and beside it a configuration of
    two mailboxes that share those rules: 上海 (SH) and 北京 (BJ)."""
    base = make_deployment(root)
    path = root / "group.yaml"
    path.write_text(f"""\
timezone: Asia/Shanghai
paths:
  rules: rules
  templates: mail_templates
daemon:
  poll_seconds: 0.2
{store}mailboxes:
  - name: shanghai
    mailbox:
      address: {base.settings.mailbox.address}
      id_prefix: SH
    local:
      listen_port: {free_port()}
    paths:
      state: state-sh
  - name: beijing
    mailbox:
      address: {BJ}
      display_name: 北京公司协作秘书
      id_prefix: BJ
    local:
      listen_port: {free_port()}
    paths:
      state: state-bj
""", encoding="utf-8")
    return load_config(path)


def request(to: str, n: int) -> bytes:
    return message(sender="刘洋 <liu.yang@example.com>", to=to, subject=f"需求表：数据 {n}",
                   body=finance_request(), message_id=f"<group-{n}@example.com>")


def status(config: Config, mailbox: str) -> dict:  # type: ignore[type-arg]
    return json.loads(collabd("status", "--json", "--mailbox", mailbox,  # type: ignore[no-any-return]
                              config=config).stdout)


def _two_mailboxes_stay_apart(config: Config) -> None:
    ambiguous = collabd("status", config=config, check=False)
    assert ambiguous.returncode == 2 and b"--mailbox" in ambiguous.stderr
    assert b"shanghai, beijing" in ambiguous.stderr
    collabd("deliver", "--mailbox", "shanghai", config=config,
            stdin=request(config.settings.mailbox.address, 1))
    collabd("deliver", "--mailbox", "BJ", config=config, stdin=request(BJ, 2))
    collabd("deliver", "--mailbox", BJ, config=config, stdin=request(BJ, 3))
    collabd("run", "--once", config=config)  # (both, one after the other)

    sh, bj = status(config, "shanghai"), status(config, "beijing")
    assert [r["id"] for r in sh["open"]] == ["SH-XQ-2026-0001"]
    assert [r["id"] for r in bj["open"]] == ["BJ-XQ-2026-0001", "BJ-XQ-2026-0002"]
    assert sh["mail"]["processed"] == 1 and bj["mail"]["processed"] == 2
    # Written as people write it, without the prefix: the mailbox's own record.
    shown = json.loads(collabd("show", "XQ-2026-0001", "--json", "--mailbox", "sh",
                               config=config).stdout)
    assert shown["record"]["id"] == "SH-XQ-2026-0001"
    unknown = collabd("show", "SH-XQ-2026-0001", "--mailbox", "bj", config=config,
                      check=False)
    assert unknown.returncode != 0


def test_two_mailboxes_in_one_configuration_keep_their_records_apart(tmp_path: Path) -> None:
    config = group(tmp_path / "d")
    _two_mailboxes_stay_apart(config)
    # Each mailbox answered from its own address, with its own ids in the subject.
    [sh_ack] = [m for m in sent_messages(tmp_path / "d" / "state-sh")
                if "已受理" in str(m["Subject"])]
    assert "[SH-XQ-2026-0001]" in str(sh_ack["Subject"])
    assert "collab@example.com" in str(sh_ack["From"])
    bj_acks = [m for m in sent_messages(tmp_path / "d" / "state-bj")
               if "已受理" in str(m["Subject"])]
    assert len(bj_acks) == 2 and all(BJ in str(m["From"]) for m in bj_acks)
    assert all("北京公司协作秘书" in str(m["From"]) for m in bj_acks)


def test_two_mailboxes_in_one_postgresql_database(tmp_path: Path, postgres: Postgres) -> None:
    space = uuid.uuid4().hex[:8]
    config = group(tmp_path / "d", store=(
        f"store: postgresql\npostgresql:\n  dsn: \"{postgres.dsn}\"\n"))
    # (each mailbox's space is its address; a test-unique address keeps reruns apart)
    text = config.path.read_text(encoding="utf-8")
    text = text.replace("address: collab@example.com", f"address: sh-{space}@example.com")
    text = text.replace(f"address: {BJ}", f"address: bj-{space}@example.com")
    config.path.write_text(text.replace(BJ, f"bj-{space}@example.com"), encoding="utf-8")
    config = load_config(config.path)
    sh, bj = config.group
    assert sh.settings.mailbox.address != bj.settings.mailbox.address
    collabd("deliver", "--mailbox", "sh", config=config,
            stdin=request(sh.settings.mailbox.address, 1))
    collabd("deliver", "--mailbox", "bj", config=config,
            stdin=request(bj.settings.mailbox.address, 2))
    collabd("run", "--once", config=config)
    assert [r["id"] for r in status(config, "sh")["open"]] == ["SH-XQ-2026-0001"]
    assert [r["id"] for r in status(config, "bj")["open"]] == ["BJ-XQ-2026-0001"]


def test_one_process_serves_both_mailboxes_until_stopped(tmp_path: Path) -> None:
    config = group(tmp_path / "d")
    daemon = DaemonProcess(config)
    daemon.log_path = tmp_path / "group.log"
    daemon.start(timeout=30)
    try:
        from helpers import smtp_send

        for member, n in ((config.group[0], 1), (config.group[1], 2)):
            smtp_send(member, request(member.settings.mailbox.address, n),
                      recipients=[member.settings.mailbox.address])
        wait_until(lambda: status(config, "sh")["mail"]["processed"] == 1
                   and status(config, "bj")["mail"]["processed"] == 1, timeout=30,
                   message="each mailbox processed its message")
        log = daemon.log()
        assert "[shanghai]" in log and "[beijing]" in log
    finally:
        assert daemon.stop() == 0, daemon.log()


def test_mailboxes_that_cannot_be_told_apart_are_refused(tmp_path: Path) -> None:
    config = group(tmp_path / "d")
    text = config.path.read_text(encoding="utf-8")
    path = config.path
    path.write_text(text.replace("      id_prefix: BJ\n", "").replace("state-bj", "state-sh"),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = "\n".join(info.value.problems)
    assert "beijing need(s) mailbox.id_prefix" in problems
    assert "same state directory" in problems
    # On PostgreSQL, one space for both would mix them: refused too (and one listener).
    shared = text.replace("mailboxes:\n", "store: postgresql\npostgresql:\n  dsn: "
                          "\"host=db.example dbname=collabd\"\n  space: group\nmailboxes:\n")
    port = re.search(r"listen_port: (\d+)", text).group(1)  # type: ignore[union-attr]
    shared = re.sub(r"listen_port: \d+", f"listen_port: {port}", shared)
    path.write_text(shared, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = "\n".join(info.value.problems)
    assert "same PostgreSQL space (postgresql.space, default the address) 'group'" in problems
    assert f"same SMTP listener (local.listen_host and local.listen_port) '127.0.0.1:{port}'" \
        in problems
    path.write_text(text.replace("id_prefix: BJ", "id_prefix: XQ"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    [problem] = info.value.problems
    assert problem.startswith(f"{path}:") and "mailboxes[1].mailbox.id_prefix" in problem


def test_the_readme_example_of_a_group_is_a_valid_configuration(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("### Several mailboxes in one configuration"):]
    example = section[section.index("```yaml\n") + 8:section.index("```\n", 10)]
    path = tmp_path / "collabd.yaml"
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    assert [(c.name, c.settings.mailbox.id_prefix, c.settings.backend, c.settings.store)
            for c in config.group] == [("shanghai", "SH", "imap", "postgresql"),
                                       ("beijing", "BJ", "imap", "postgresql")]
    assert config.group[1].settings.mailbox.display_name == "北京公司协作秘书"
    assert config.group[0].settings.timezone == config.group[1].settings.timezone
