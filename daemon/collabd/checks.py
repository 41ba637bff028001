"""`collabd check`: everything that can be validated before the daemon starts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from collabd.config import Config
from collabd.errors import CollabdError
from collabd.outbound.templates import Templates
from collabd.policy.rules import Rules, load_rules
from collabd.resources import skeleton_dir
from collabd.yamlsrc import ConfigError

# Every message the workflow renders; a deployment's mail_templates/ must have them all.
REQUIRED_TEMPLATES = (
    "request_ack", "request_notify", "form_incomplete", "not_understood", "problem_ack",
    "problem_notify", "receiver_responded", "comment_relay", "acceptance_request",
    "acceptance_accepted", "acceptance_rejected", "signoff_not_counted", "meeting_invite",
    "meeting_cancel", "meeting_declined", "meeting_counter", "minutes_request",
    "minutes_confirm", "minutes_rejected", "minutes_signed_off", "task_assigned",
    "oversize_notice", "signoff_ask_again", "problem_closed",
    "unreadable_notice", "set_aside_notice", "set_aside_summary", "escalation_settled",
    "problem_update", "problem_graded", "project_ack", "project_tasks", "memo_sign",
    "memo_objection", "memo_signed", "task_acceptance_request", "task_accepted",
    "task_rejected", "project_which_task", "project_feedback", "project_closed",
    "archive_bundle", "series_agenda", "project_plan_changed", "milestone_confirm",
    "milestone_answered", "project_refused", "task_consult", "project_sync",
    "resolution_sign", "resolution_answered", "command_refused", "query_answer",
    "ledger_weekly", "ledger_problems", "figures_departments", "digest_daily",
    "digest_subscription", "board_link", "calendar_unpublished", "unlisted_requester",
)
# Text-only templates (a meeting's agenda, the memo heads sign).
REQUIRED_TEXTS = ("agenda_review", "agenda_risk", "agenda_problem", "agenda_kickoff",
                  "agenda_retro", "agenda_series", "agenda_change", "agenda_push",
                  "text_memo")


WARNING = "warning: "


def calendar_warnings(rules: Rules, today: dt.date) -> list[str]:
    """Years whose holiday schedule the daemon would have to guess (from 1 November of
    the year before): what to do about each."""
    from importlib.metadata import version

    where = rules.sources.get("calendar.yaml")
    place = where.where(("years",)) if where else "calendar.yaml"
    return [f"{place}: the {year} holiday schedule (the State Council's notice, with its "
            f"调休 workdays) is not in the installed holidays package {version('holidays')}; "
            f"deadlines in {year} would count guessed days. Upgrade it (pip install -U "
            f"holidays) once the notice is out, or give {year}'s days off and workdays in "
            f"calendar.yaml under years: {year}:"
            for year in rules.calendar.unpublished_ahead(today)]


def ladder_template_problems(rules: Rules, templates: Templates) -> list[str]:
    """Every template a ladder step names must exist (file:line of the step)."""
    problems = []
    source = rules.sources.get("escalation.yaml")
    for ladder, steps in rules.escalation.ladders.items():
        for index, step in enumerate(steps):
            if not templates.available(step.template):
                where = (source.where(("ladders", ladder, index, "template")) if source
                         else "escalation.yaml")
                problems.append(f"{where}: ladders.{ladder}[{index}].template: no template "
                                f"{step.template!r} in {templates.directory} (needs "
                                f"{step.template}.subject.j2, .txt.j2 and .html.j2)")
    return problems


def run_checks(config: Config, *, offline: bool = False) -> tuple[list[str], list[str]]:
    """Returns (problems, findings); each problem names file:line where there is one."""
    problems, findings = check_files(config.rules_dir, config.templates_dir, config.tz,
                                     config.path)
    findings.insert(0, f"configuration {config.path}")
    if config.settings.directory.sources and not offline:
        problems_, findings_ = _check_directory(config)
        problems += problems_
        findings += findings_
    if config.settings.store == "postgresql" and not offline:
        problems_, findings_ = _check_store(config)
        problems += problems_
        findings += findings_
    if not offline:
        from collabd.app import make_mailbox

        try:
            mailbox = make_mailbox(config, listen=False)
            for ok, line in mailbox.check():
                (findings if ok else problems).append(f"mailbox: {line}")
        except CollabdError as exc:
            problems.append(f"mailbox: {exc}")
    return problems, findings


def _check_store(config: Config) -> tuple[list[str], list[str]]:
    """Reach the PostgreSQL store: who leads its mailbox, how much it holds."""
    from collabd.store.backend import pg_store

    try:
        store = pg_store(config, readonly=True).open()
    except Exception as exc:  # (psycopg's errors name the server and the refusal)
        return [f"store: {exc}"], []
    try:
        from collabd.report import daemon_line, nodes_state

        return [], [f"store: {store.describe()}: {store.count('records')} records; "
                    + daemon_line(nodes_state(store.nodes()))]
    finally:
        store.close()


def _check_directory(config: Config) -> tuple[list[str], list[str]]:
    """Read the directory sources now; warn about people org.yaml gives a role who are
    in none of them."""
    from collabd.policy import sources

    try:
        members = sources.read_usable(config)
    except CollabdError as exc:
        return [f"directory: {exc}; the daemon keeps its last good read"], []
    findings = [f"directory: {len(members)} people from "
                f"{len(config.settings.directory.sources)} source(s)"]
    try:
        rules = load_rules(config.rules_dir, tz=config.tz, defaults=skeleton_dir("rules"))
    except ConfigError:
        return [], findings  # (the rules' own problems are reported already)
    findings += [f"{WARNING}org.yaml: {line}" for line in sources.departed(rules, members)]
    return [], findings


def check_files(rules_dir: Path, templates_dir: Path, tz: ZoneInfo, config_path: Path
                ) -> tuple[list[str], list[str]]:
    """The rules and the templates (also when collabd.yaml itself is invalid: every
    layer is reported in one run). A layer with a problem gets no "ok" finding."""
    problems: list[str] = []
    findings: list[str] = []
    rules = None
    try:
        rules = load_rules(rules_dir, tz=tz, defaults=skeleton_dir("rules"))
        findings.append(
            f"rules {rules_dir}: {len(rules.directory.departments)} departments, "
            f"leader {rules.directory.leader.name}, secretary {rules.directory.secretary.name}")
        findings.extend(f"rules: {name} not in the deployment, the shipped default is used"
                        for name in rules.defaulted)
        findings.extend(f"{WARNING}{line}" for line in calendar_warnings(
            rules, dt.datetime.now(tz).date()))
    except ConfigError as exc:
        problems.extend(exc.problems)
    if not templates_dir.is_dir():
        problems.append(f"{config_path}: paths.templates: directory {templates_dir} "
                        "does not exist")
    else:
        before = len(problems)
        templates = Templates(templates_dir, skeleton_dir("mail_templates"))
        problems.extend(templates.check())
        for name in REQUIRED_TEMPLATES:
            if not templates.available(name):
                problems.append(f"{templates_dir / name}.*.j2: template missing (the "
                                "daemon sends this message)")
            elif not templates.exists(name):
                findings.append(f"template {name}: the shipped default is used")
        for name in REQUIRED_TEXTS:
            if not templates.available_text(name):
                problems.append(f"{templates_dir / name}.txt.j2: template missing")
        if rules is not None:
            problems.extend(ladder_template_problems(rules, templates))
        if len(problems) == before:
            findings.append(f"templates {templates_dir}: "
                            f"{len(templates.message_names())} messages")
    return problems, findings
