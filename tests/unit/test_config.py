"""collabd.yaml: defaults from `collabd init`, and errors that name file, line and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from collabd.config import load_config
from collabd.yamlsrc import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "collabd.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_init_config_loads_with_local_defaults(deployment) -> None:  # type: ignore[no-untyped-def]
    s = deployment.settings
    assert s.backend == "local"
    assert s.timezone == "Asia/Shanghai"
    assert s.local.listen_host == "127.0.0.1"
    assert deployment.state_dir == deployment.path.parent / "state"
    assert (deployment.rules_dir / "org.yaml").exists()


def test_wrong_type_names_file_line_key_and_expectation(tmp_path: Path) -> None:
    path = _write(tmp_path, "mailbox:\n  address: collab@example.com\nlocal:\n"
                            "  listen_port: abc\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert str(info.value) == (
        f"{path}:4: local.listen_port: expected a whole number, found 'abc'")


def test_unknown_key_and_missing_key_are_both_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, "timezone: Asia/Shanghai\nbakend: local\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    problems = info.value.problems
    assert f"{path}:1: mailbox: required key is missing" in problems
    assert any(p.startswith(f"{path}:2: bakend: unknown key") for p in problems)


def test_password_in_yaml_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "mailbox:\n  address: collab@example.com\nlocal:\n  relay:\n"
                            "    host: smtp.example.com\n    auth:\n      password: hunter2\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert f"{path}:7: local.relay.auth.password:" in str(info.value)
    assert "never written in the YAML" in str(info.value)
    assert "hunter2" not in str(info.value)


def test_bad_timezone_and_bad_address(tmp_path: Path) -> None:
    path = _write(tmp_path, "mailbox:\n  address: not-an-address\ntimezone: Mars/Olympus\n")
    with pytest.raises(ConfigError) as info:
        load_config(path)
    text = str(info.value)
    assert f"{path}:2: mailbox.address: expected a bare e-mail address" in text
    assert f"{path}:3: timezone: expected an IANA timezone name" in text


def test_yaml_syntax_error_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path, "mailbox:\n  address: [unclosed\n")
    with pytest.raises(ConfigError, match=rf"{path}:\d+: not valid YAML"):
        load_config(path)


def test_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="collabd init"):
        load_config(tmp_path / "nope.yaml")


IMAP_CONFIG = """\
mailbox:
  address: collab@example.com
backend: imap
imap:
  host: imap.exmail.qq.com
  username: collab@example.com
  auth:
    password_env: COLLABD_MAIL_PASSWORD
smtp:
  host: smtp.exmail.qq.com
  security: tls
  username: collab@example.com
  auth:
    xoauth2_token_file: token.txt
"""


def test_imap_backend_settings_and_their_defaults(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, IMAP_CONFIG))
    imap, smtp = config.settings.imap, config.settings.smtp
    assert imap is not None and smtp is not None
    assert (imap.security, imap.effective_port, imap.verify) == ("tls", 993, True)
    assert (smtp.security, smtp.effective_port) == ("tls", 465)
    assert imap.processed_folder == "collabd/processed"
    assert not imap.auth.oauth2 and smtp.auth is not None and smtp.auth.oauth2
    # Secrets come from the environment or a file beside the configuration.
    with pytest.raises(ConfigError, match="COLLABD_MAIL_PASSWORD is not set"):
        imap.auth.resolve(tmp_path)
    with pytest.raises(ConfigError, match="cannot read the secret file"):
        smtp.auth.resolve(tmp_path)
    (tmp_path / "token.txt").write_text("ya29.token\n", encoding="utf-8")
    assert smtp.auth.resolve(tmp_path) == "ya29.token"


def test_imap_backend_needs_both_servers_and_a_secret(tmp_path: Path) -> None:
    path = _write(tmp_path, "mailbox:\n  address: collab@example.com\nbackend: imap\n")
    with pytest.raises(ConfigError, match="backend imap needs the imap and smtp section"):
        load_config(path)
    text = IMAP_CONFIG.replace("    password_env: COLLABD_MAIL_PASSWORD\n",
                               "    password: hunter2\n")
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert f"{tmp_path / 'collabd.yaml'}:8: imap.auth.password:" in str(info.value)
    assert "hunter2" not in str(info.value)
    text = IMAP_CONFIG.replace("    password_env: COLLABD_MAIL_PASSWORD\n",
                               "    password_env: A\n    password_file: b.txt\n")
    with pytest.raises(ConfigError, match="give one of password_file and password_env"):
        load_config(_write(tmp_path, text))


def test_idle_is_renewed_inside_the_servers_limit(tmp_path: Path) -> None:
    text = IMAP_CONFIG.replace("  folder: INBOX\n", "").replace(
        "imap:\n", "imap:\n  idle_renew_seconds: 1800\n")
    with pytest.raises(ConfigError, match=r"imap\.idle_renew_seconds"):
        load_config(_write(tmp_path, text))


EWS_CONFIG = """\
mailbox:
  address: collab@example.com
backend: ews
ews:
  service_endpoint: https://mail.example.com/EWS/Exchange.asmx
  username: CORP\\svc-collab
  auth:
    password_file: ews.secret
"""


def test_ews_settings_and_their_defaults(tmp_path: Path) -> None:
    ews = load_config(_write(tmp_path, EWS_CONFIG)).settings.ews
    assert ews is not None
    assert ews.username == "CORP\\svc-collab"
    assert (ews.auth_type, ews.access, ews.sync, ews.native_calendar) == (
        "ntlm", "delegate", "sync", True)
    assert ews.processed_folder == "collabd/processed" and ews.verify


def test_ews_needs_credentials_that_fit_the_auth_type(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="auth_type ntlm needs username and auth"):
        load_config(_write(tmp_path, EWS_CONFIG.replace(
            "  auth:\n    password_file: ews.secret\n", "")))
    text = EWS_CONFIG.replace("  username: CORP\\svc-collab\n", "  auth_type: oauth2\n")
    with pytest.raises(ConfigError, match=r"auth_type oauth2 needs auth\.xoauth2_token_file"):
        load_config(_write(tmp_path, text))
    text = EWS_CONFIG.replace("https://mail.example.com/EWS/Exchange.asmx", "mail.example.com")
    with pytest.raises(ConfigError, match="expected the EWS URL"):
        load_config(_write(tmp_path, text))
    with pytest.raises(ConfigError, match="backend ews needs the ews section"):
        load_config(_write(tmp_path, "mailbox:\n  address: collab@example.com\n"
                                     "backend: ews\n"))


def test_a_password_in_the_postgresql_dsn_is_refused_and_never_shown(tmp_path: Path) -> None:
    for dsn in ("host=db user=collabd password=s3cret dbname=collabd",
                "postgresql://collabd:s3cret@db/collabd"):
        path = tmp_path / "collabd.yaml"
        path.write_text("mailbox:\n  address: collab@example.com\nstore: postgresql\n"
                        f"postgresql:\n  dsn: \"{dsn}\"\n", encoding="utf-8")
        with pytest.raises(ConfigError) as info:
            load_config(path)
        [problem] = info.value.problems
        assert problem.startswith(f"{path}:5: postgresql.dsn: a password is never written")
        assert "s3cret" not in problem
