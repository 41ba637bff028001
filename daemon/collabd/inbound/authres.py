"""Authentication-Results (RFC 8601): did the receiving server verify the sender's domain?

Only headers whose authserv-id is the one configured are believed: anyone can write an
Authentication-Results header into the mail they send, and a server adds its own on top.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from collabd.inbound.message import InboundMessage

_RESULT = re.compile(r"\b(dkim|dmarc|spf)\s*=\s*([a-z]+)((?:\s+[a-z.]+\s*=\s*[^\s;]+)*)",
                     re.IGNORECASE)
_PROP = re.compile(r"([a-z]+\.[a-z]+)\s*=\s*([^\s;]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str


def _headers(message: InboundMessage) -> list[str]:
    return [str(v) for k, v in message.msg.raw_items() if k.lower() == "authentication-results"]


def verify_sender(message: InboundMessage, authserv_id: str | None,
                  internal_domains: list[str]) -> Verdict:
    """DMARC or DKIM pass for the From domain, per our own server's header."""
    domain = message.sender.rsplit("@", 1)[-1].lower() if "@" in message.sender else ""
    trusted = [h for h in _headers(message)
               if authserv_id and h.split(";", 1)[0].strip().split()[0:1] == [authserv_id]]
    if domain and domain in {d.lower() for d in internal_domains}:
        # Mail between colleagues often carries no verdict at all, and needs none; but
        # our own server saying DMARC failed for our own domain is a forgery.
        for header in trusted:
            for method, result, props in _RESULT.findall(header):
                values = {k.lower(): v.lower() for k, v in _PROP.findall(props)}
                if method.lower() == "dmarc" and result.lower() == "fail" and (
                        values.get("header.from", domain) == domain):
                    return Verdict(False, f"dmarc=fail for {domain} ({authserv_id})")
        return Verdict(True, f"{domain} is an internal domain")
    if not authserv_id:
        return Verdict(False, "no authserv-id configured to trust")
    if not trusted:
        return Verdict(False, f"no Authentication-Results from {authserv_id}")
    for header in trusted:
        for method, result, props in _RESULT.findall(header):
            if result.lower() != "pass":
                continue
            values = {k.lower(): v.lower() for k, v in _PROP.findall(props)}
            aligned = values.get("header.from") or values.get("header.d") or ""
            if method.lower() in ("dmarc", "dkim") and (
                    aligned == domain or aligned.endswith("." + domain)):
                return Verdict(True, f"{method.lower()}=pass for {domain} ({authserv_id})")
    return Verdict(False, f"no DMARC/DKIM pass for {domain} in {authserv_id}'s results")
