"""The enterprise mail providers Chinese companies use: `collabd init --provider` writes
their servers; NetEase Qiye's refusal to open a mailbox for a client that has not sent
the IMAP ID command, imitated in front of a real Dovecot, does not stop collabd; a
refused login says what to do at that provider."""

from __future__ import annotations

import imaplib
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_imap_backend import request, subjects_of, submit

from collabd.config import load_config
from collabd.deployment import init_deployment
from collabd.providers import PROVIDERS
from helpers import SHARED, DaemonProcess, collabd, wait_until
from servers import PASSWORD, Dovecot, NeteaseImitation, Submission, imap_deployment

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("key", sorted(PROVIDERS))
def test_init_writes_the_providers_servers(tmp_path: Path, key: str) -> None:
    path = init_deployment(tmp_path / key, address="collab@corp.example.cn", provider=key)
    settings = load_config(path).settings
    provider = PROVIDERS[key]
    assert settings.backend == "imap" and settings.imap is not None and settings.smtp
    assert (settings.imap.host, settings.imap.effective_port, settings.imap.security) == (
        provider.imap_host, 993, "tls")
    assert (settings.smtp.host, settings.smtp.effective_port, settings.smtp.security) == (
        provider.smtp_host, 465, "tls")
    assert settings.imap.username == "collab@corp.example.cn"
    assert settings.imap.provider == key and settings.smtp.provider == key
    assert settings.imap.auth.password_file == Path("mail.secret")


def test_init_refuses_an_unknown_provider(tmp_path: Path) -> None:
    result = collabd("init", str(tmp_path / "d"), "--provider", "163mail", check=False)
    assert result.returncode != 0 and "exmail" in result.stderr.decode()


@pytest.fixture
def netease(dovecot: Dovecot) -> Iterator[NeteaseImitation]:
    imitation = NeteaseImitation(dovecot).start()
    yield imitation
    imitation.close()


def _through(config_path: Path, dovecot: Dovecot, port: int, provider: str) -> None:
    """Point a test deployment's IMAP at `port` and name its provider."""
    text = config_path.read_text(encoding="utf-8")
    text = text.replace(f"  port: {dovecot.imap_port}\n",
                        f"  port: {port}\n  provider: {provider}\n", 1)
    config_path.write_text(text, encoding="utf-8")


def test_netease_opens_the_mailbox_only_for_a_client_that_said_who_it_is(
        tmp_path: Path, dovecot: Dovecot, netease: NeteaseImitation) -> None:
    # The imitation is faithful: a client without ID is refused at SELECT ...
    plain = imaplib.IMAP4("127.0.0.1", netease.port)
    plain.login(SHARED, PASSWORD)
    status, answer = plain.select("INBOX")
    assert status == "NO" and b"Unsafe Login" in answer[0]
    plain.logout()
    # ... and collabd, which sends ID, reads and answers mail through it.
    submission = Submission(dovecot).start()
    daemon = None
    try:
        config = imap_deployment(tmp_path / "deploy", dovecot, submission)
        _through(config.path, dovecot, netease.port, "netease")
        checked = collabd("check", config=load_config(config.path))
        assert "logged in as" in checked.stdout.decode()
        daemon = DaemonProcess(load_config(config.path)).start()
        submit(submission, request("网易邮箱接入"))
        wait_until(lambda: subjects_of(dovecot, "liu.yang@example.com", "需求已受理"),
                   message="the acknowledgement", timeout=30)
        assert netease.identified >= 1 and netease.refused == 1  # (only the plain client)
    finally:
        if daemon is not None:
            assert daemon.stop() == 0, daemon.log()
        submission.close()


def test_a_refused_login_says_what_to_do_at_the_provider(
        tmp_path: Path, dovecot: Dovecot, netease: NeteaseImitation) -> None:
    submission = Submission(dovecot).start()
    try:
        config = imap_deployment(tmp_path / "deploy", dovecot, submission)
        _through(config.path, dovecot, netease.port, "netease")
        (config.path.parent / "mail.secret").write_text("the-account-password\n",
                                                        encoding="utf-8")
        result = collabd("check", config=load_config(config.path), check=False)
        said = result.stdout.decode() + result.stderr.decode()
        assert result.returncode != 0 and "login as" in said and "refused" in said
        assert "网易企业邮" in said and "客户端授权密码" in said
        assert "客户端设置" in said  # IMAP/SMTP to be turned on in the web settings
    finally:
        submission.close()


def test_a_host_of_a_known_provider_is_recognised_without_the_key() -> None:
    from collabd.providers import login_hint

    assert "客户端专用密码" in login_hint("imap.exmail.qq.com")
    assert "三方客户端安全密码" in login_hint("smtp.qiye.aliyun.com")
    assert login_hint("mail.example.com") == ""
