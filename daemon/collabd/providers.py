"""The enterprise mail providers Chinese companies use, as `collabd init --provider`
writes them and as `collabd check` explains a refused login.

Each serves the shared mailbox over IMAP (993, TLS) and takes mail over SMTP (465,
TLS). What differs is what an administrator must do first, in the provider's web
console, and what password a client logs in with: most require IMAP/SMTP to be turned
on for the mailbox and a client-only password (客户端专用密码 / 授权码) instead of the
account's own once secure login (安全登录, 微信动态码, two-step) is on. NetEase refuses
SELECT from a client that has not sent the IMAP ID command (RFC 2971) after login —
collabd sends ID to every server that lists it.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Provider:
    key: str
    name: str
    imap_host: str
    smtp_host: str
    imap_port: int = 993
    smtp_port: int = 465
    # What to do when the server refuses the login (Chinese: shown to the operator and
    # written in the README).
    login_steps: tuple[str, ...] = ()
    # Other hosts the provider's mailboxes are reached at (to recognise a deployment
    # written by hand).
    also: tuple[str, ...] = ()


PROVIDERS: dict[str, Provider] = {p.key: p for p in (
    Provider(
        "exmail", "腾讯企业邮", "imap.exmail.qq.com", "smtp.exmail.qq.com",
        login_steps=(
            "在腾讯企业邮网页版「设置 → 收发信设置」中开启 IMAP/SMTP 服务",
            "开启了安全登录（微信动态码）时，不能用邮箱密码登录客户端：在「设置 → 账户 → "
            "客户端专用密码」生成一个，写入 password_file",
        ),
        also=("imap.exmail.qq.com", "hwimap.exmail.qq.com")),
    Provider(
        "aliyun", "阿里邮箱", "imap.qiye.aliyun.com", "smtp.qiye.aliyun.com",
        login_steps=(
            "管理员在阿里邮箱管理后台为该账号允许 IMAP/SMTP（「员工账号 → 编辑 → 客户端登录」）",
            "开启了二次验证时，用网页版「设置 → 账户与安全 → 三方客户端安全密码」生成的密码登录",
        )),
    Provider(
        "netease", "网易企业邮", "imap.qiye.163.com", "smtp.qiye.163.com",
        login_steps=(
            "在网易企业邮网页版「设置 → 客户端设置」中开启 IMAP/SMTP 服务",
            "开启了客户端授权密码时，用「设置 → 客户端授权密码」生成的授权码登录，"
            "而不是邮箱密码",
            "网易要求客户端登录后发送 IMAP ID 命令，否则拒绝打开邮箱（Unsafe Login）；"
            "collabd 会自动发送，若仍被拒绝请联系网易企业邮客服为该账号放行",
        )),
    Provider(
        "feishu", "飞书邮箱", "imap.feishu.cn", "smtp.feishu.cn",
        login_steps=(
            "在飞书邮箱「设置 → 第三方邮件客户端」中开启 IMAP/SMTP 服务（管理员需在飞书"
            "管理后台「邮箱 → 邮箱设置」允许使用第三方客户端）",
            "用开启时生成的专用密码登录，而不是飞书账号密码",
        )),
    Provider(
        # 钉邮 is Alibaba Mail: a company that opened its mailboxes in DingTalk reaches
        # them at Alibaba Mail's servers.
        "dingtalk", "钉钉邮箱（钉邮，阿里邮箱提供）", "imap.qiye.aliyun.com",
        "smtp.qiye.aliyun.com",
        login_steps=(
            "管理员在钉钉管理后台「工作台 → 钉邮 → 管理员工邮箱」中为该账号开启客户端"
            "（IMAP/SMTP）登录",
            "开启了二次验证时，用钉邮网页版「设置 → 账户与安全 → 三方客户端安全密码」"
            "生成的密码登录",
            "若钉邮绑定的是其他服务商的企业邮箱，请改用该服务商的设置（--provider exmail 等）",
        )),
)}


def by_host(host: str) -> Provider | None:
    """The provider serving this IMAP or SMTP host, if it is one we know."""
    host = host.strip().lower()
    for provider in PROVIDERS.values():
        if host in (provider.imap_host, provider.smtp_host, *provider.also):
            return provider
    return None


def login_hint(host: str, key: str | None = None) -> str:
    """What to do about a refused login at this provider (as collabd.yaml names it) or
    host, in Chinese ("" when neither is one we know)."""
    provider = PROVIDERS.get(key or "") or by_host(host)
    if provider is None:
        return ""
    steps = "；".join(f"{n}. {step}" for n, step in enumerate(provider.login_steps, 1))
    return f"（{provider.name}：{steps}）"


def config_section(provider: Provider, address: str) -> str:
    """The collabd.yaml lines that put a deployment on this provider."""
    return f"""\
# {provider.name}: IMAP {provider.imap_host}:{provider.imap_port} and SMTP \
{provider.smtp_host}:{provider.smtp_port}, both TLS.
# Put the mailbox's password (or client-only password / 授权码, see the README) in
# mail.secret beside this file, readable only by the daemon's user.
backend: imap
imap:
  provider: {provider.key}
  host: {provider.imap_host}
  port: {provider.imap_port}
  security: tls
  username: {address}
  auth:
    password_file: mail.secret
smtp:
  provider: {provider.key}
  host: {provider.smtp_host}
  port: {provider.smtp_port}
  security: tls
  username: {address}
  auth:
    password_file: mail.secret
"""
