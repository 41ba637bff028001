"""`collabd check`: everything that can be validated before the daemon starts."""

from __future__ import annotations

from collabd.config import Config
from collabd.errors import CollabdError
from collabd.outbound.templates import Templates
from collabd.policy.rules import load_rules
from collabd.resources import skeleton_dir
from collabd.yamlsrc import ConfigError

# Every message the workflow renders; a deployment's mail_templates/ must have them all.
REQUIRED_TEMPLATES = (
    "request_ack", "request_notify", "form_incomplete", "not_understood", "problem_ack",
    "problem_notify", "receiver_responded", "comment_relay", "acceptance_request",
    "acceptance_accepted", "acceptance_rejected", "signoff_not_counted",
)


def run_checks(config: Config, *, offline: bool = False) -> tuple[list[str], list[str]]:
    """Returns (problems, findings); each problem names file:line where there is one."""
    problems: list[str] = []
    findings: list[str] = [f"configuration {config.path}"]
    try:
        rules = load_rules(config.rules_dir, tz=config.tz, defaults=skeleton_dir("rules"))
        findings.append(
            f"rules {config.rules_dir}: {len(rules.directory.departments)} departments, "
            f"leader {rules.directory.leader.name}, secretary {rules.directory.secretary.name}")
        findings.extend(f"rules: {name} not in the deployment, the shipped default is used"
                        for name in rules.defaulted)
    except ConfigError as exc:
        problems.extend(exc.problems)
    if not config.templates_dir.is_dir():
        problems.append(f"{config.path}: paths.templates: directory {config.templates_dir} "
                        "does not exist")
    else:
        templates = Templates(config.templates_dir, skeleton_dir("mail_templates"))
        problems.extend(templates.check())
        for name in REQUIRED_TEMPLATES:
            if not templates.available(name):
                problems.append(f"{config.templates_dir / name}.*.j2: template missing (the "
                                "daemon sends this message)")
            elif not templates.exists(name):
                findings.append(f"template {name}: the shipped default is used")
        findings.append(f"templates {config.templates_dir}: "
                        f"{len(templates.message_names())} messages")
    if not offline:
        from collabd.app import make_mailbox

        try:
            mailbox = make_mailbox(config, listen=False)
            findings.extend(f"mailbox: {line}" for line in mailbox.check())
        except CollabdError as exc:
            problems.append(f"mailbox: {exc}")
    return problems, findings
