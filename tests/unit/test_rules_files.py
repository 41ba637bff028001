"""Rules files are validated strictly; every error names file:line and the key."""

from __future__ import annotations

import shutil
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from collabd.policy.rules import load_rules
from collabd.yamlsrc import ConfigError
from helpers import REPO

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    target = tmp_path / "rules"
    shutil.copytree(REPO / "rules", target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(rules_dir: Path) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_rules(rules_dir, tz=TZ)
    return info.value.problems


def test_shipped_rules_load() -> None:
    rules = load_rules(REPO / "rules", tz=TZ)
    assert rules.directory.department("研發部").name == "研发部"  # type: ignore[union-attr]
    assert rules.directory.leader.name == "王建国"


def test_bad_address_names_line(rules_dir: Path) -> None:
    _edit(rules_dir / "org.yaml", "address: liu.yang@example.com", "address: liu.yang")
    [problem] = _problems(rules_dir)
    line = next(i for i, text in enumerate((rules_dir / "org.yaml").read_text().splitlines(), 1)
                if "address: liu.yang" in text and "@" not in text)
    assert problem.startswith(f"{rules_dir / 'org.yaml'}:{line}: departments[0].liaison.address:")


def test_unknown_key_and_unparseable_duration(rules_dir: Path) -> None:
    _edit(rules_dir / "sla.yaml", "minutes_due: 24h", "minutes_due: 24 hrz\nminute_due: 2h")
    problems = _problems(rules_dir)
    lines = (rules_dir / "sla.yaml").read_text().splitlines()
    bad = lines.index("minutes_due: 24 hrz") + 1
    assert any(f"sla.yaml:{bad}: minutes_due: '24 hrz' is not a duration" in p
               for p in problems), problems
    assert any(f"sla.yaml:{bad + 1}: minute_due: unknown key" in p for p in problems), problems


def test_sla_for_an_urgency_the_forms_do_not_know(rules_dir: Path) -> None:
    _edit(rules_dir / "sla.yaml", "  不急: 7 workdays", "  很急: 1 workday")
    problems = _problems(rules_dir)
    assert any("request_response.很急: not an urgency" in p for p in problems)
    assert any("no deadline for urgency '不急'" in p for p in problems)


def test_one_address_two_names(rules_dir: Path) -> None:
    _edit(rules_dir / "org.yaml", "address: chen.chen@example.com",
          "address: liu.yang@example.com")
    problems = _problems(rules_dir)
    assert any("one address is one person" in p for p in problems)


def test_unknown_rules_file(rules_dir: Path) -> None:
    (rules_dir / "escalaton.yaml").write_text("x: 1\n")
    assert any("escalaton.yaml:1: unknown rules file" in p for p in _problems(rules_dir))


def test_directory_resolves_names_addresses_and_aliases() -> None:
    directory = load_rules(REPO / "rules", tz=TZ).directory
    assert directory.resolve("孫麗")[0].address == "sun.li@example.com"  # type: ignore[union-attr]
    assert directory.resolve("孙丽 <SUN.LI@example.com>")[0].name == "孙丽"  # type: ignore[union-attr]
    assert directory.same_person("sunli@example.net", "sun.li@example.com")
    person, problem = directory.resolve("钱七")
    assert person is None and problem == "「钱七」不在组织目录中"
    outsider, _ = directory.resolve("外部顾问 <adviser@partner.example>")
    assert outsider is not None and outsider.department is None


def _line_of(path: Path, text: str) -> int:
    return next(i for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
                if text in line)


def test_escalation_unknown_person_names_file_line_and_key(rules_dir: Path) -> None:
    path = rules_dir / "escalation.yaml"
    _edit(path, "      to: [leader]\n      cc: [secretary, receiver_head]",
          "      to: [钱七]\n      cc: [secretary, receiver_head]")
    [problem] = _problems(rules_dir)
    assert problem.startswith(f"{path}:{_line_of(path, 'to: [钱七]')}: "
                              "ladders.receiver_response[3].to: '钱七' is neither a role")


def test_escalation_names_and_departments_from_the_directory_are_accepted(
        rules_dir: Path) -> None:
    _edit(rules_dir / "escalation.yaml", "      to: [leader]\n      cc: [secretary, receiver_head]",
          "      to: [王建国, 研发部]\n      cc: [li.jing@example.com]")
    load_rules(rules_dir, tz=TZ)


def test_escalation_unparseable_when(rules_dir: Path) -> None:
    path = rules_dir / "escalation.yaml"
    _edit(path, "    - when: 2h before", "    - when: 2 hours later")
    [problem] = _problems(rules_dir)
    assert problem == (f"{path}:{_line_of(path, '2 hours later')}: ladders.minutes_not_sent[0]"
                       ".when: expected 'at deadline', '<duration> before' or '<duration> "
                       "after', found '2 hours later'")


def test_escalation_unknown_wait(rules_dir: Path) -> None:
    path = rules_dir / "escalation.yaml"
    _edit(path, "  problem_open:", "  problem_opened:")
    [problem] = _problems(rules_dir)
    assert problem.startswith(f"{path}:{_line_of(path, 'ladders:')}: ladders: unknown wait "
                              "problem_opened")


def test_escalation_wrong_type_and_unknown_key(rules_dir: Path) -> None:
    path = rules_dir / "escalation.yaml"
    _edit(path, "      template: risk_notice", "      template: risk_notice\n      urgent: yes")
    _edit(path, "      to: [waited]\n      template: reminder\n    - when: at deadline\n"
                "      to: [waited]\n      cc: [waited_head]",
          "      to: waited\n      template: reminder\n    - when: at deadline\n"
          "      to: [waited]\n      cc: [waited_head]")
    problems = _problems(rules_dir)
    assert any(f"{path}:{_line_of(path, 'urgent: yes')}: ladders.task_at_risk[0].urgent: "
               "unknown key" in p for p in problems), problems
    assert any(".to: expected a list" in p for p in problems), problems


def test_meetings_unknown_attendee(rules_dir: Path) -> None:
    path = rules_dir / "meetings.yaml"
    _edit(path, "  invite_heads: false           # also invite both department heads\n"
                "  extra_attendees: []",
          "  invite_heads: false\n  extra_attendees: [设计部]")
    [problem] = _problems(rules_dir)
    assert problem.startswith(f"{path}:{_line_of(path, 'extra_attendees: [设计部]')}: "
                              "review.extra_attendees: '设计部' is not a person or department")


def test_meetings_bad_weekday(rules_dir: Path) -> None:
    path = rules_dir / "meetings.yaml"
    _edit(path, "    day: friday", "    day: funday")
    [problem] = _problems(rules_dir)
    assert problem.startswith(f"{path}:{_line_of(path, 'day: funday')}: risk.weekly.day: "
                              "expected a weekday")


def test_calendar_bad_date(rules_dir: Path) -> None:
    path = rules_dir / "calendar.yaml"
    _edit(path, "extra_days_off: []", "extra_days_off: [2026-13-01]")
    [problem] = _problems(rules_dir)
    assert problem.startswith(f"{path}:{_line_of(path, '2026-13-01')}: extra_days_off[0]:")


def test_a_template_that_does_not_exist(tmp_path: Path) -> None:
    from helpers import collabd, make_deployment

    config = make_deployment(tmp_path / "d")
    path = config.rules_dir / "escalation.yaml"
    _edit(path, "      template: risk_notice", "      template: risk_notise")
    result = collabd("check", "--offline", config=config, check=False)
    assert result.returncode == 1
    expected = (f"{path}:{_line_of(path, 'risk_notise')}: ladders.task_at_risk[0].template: "
                "no template 'risk_notise'")
    assert expected in result.stderr.decode()
    # The daemon does not start on it either.
    run = collabd("run", "--once", config=config, check=False)
    assert run.returncode != 0 and expected in run.stderr.decode()


def test_check_reports_every_layer_in_one_run(tmp_path: Path) -> None:
    from helpers import collabd, make_deployment

    config = make_deployment(tmp_path / "d")
    with config.path.open("a", encoding="utf-8") as fh:
        fh.write("bogus_key: 1\n")
    org = config.rules_dir / "org.yaml"
    _edit(org, "    address: li.jing@example.com", "    address: not-an-address")
    rooms = config.rules_dir / "meetings.yaml"
    _edit(rooms, "    capacity: 10", "    capacity: ten")
    template = config.templates_dir / "request_ack.subject.j2"
    template.write_text("{{ broken", encoding="utf-8")
    result = collabd("check", config=config, check=False)
    assert result.returncode == 1
    errors = result.stderr.decode()
    # The configuration, two rules files and a template: all of them, in one run.
    assert f"{config.path}:" in errors and "bogus_key: unknown key" in errors
    assert f"{org}:{_line_of(org, 'not-an-address')}: coordination_group.secretary" in errors
    assert f"{rooms}:{_line_of(rooms, 'capacity: ten')}: rooms[0].capacity" in errors
    assert f"{template}:1: template syntax error" in errors
    assert "collabd: 4 problem(s) found" in errors
    out = result.stdout.decode()
    assert "mailbox: not checked" in out
    # No layer with a problem is said to be ok.
    assert "ok: templates" not in out and "ok: rules" not in out


def test_check_says_ok_only_of_what_is(tmp_path: Path) -> None:
    from helpers import collabd, make_deployment

    config = make_deployment(tmp_path / "d")
    (config.templates_dir / "request_ack.subject.j2").write_text("{{ x", encoding="utf-8")
    result = collabd("check", "--offline", config=config, check=False)
    assert result.returncode == 1
    assert "ok: rules" in result.stdout.decode()
    assert "ok: templates" not in result.stdout.decode()
