"""Mail templates (Jinja2): a subject, a text and an HTML body per message, in Chinese.

Content from email reaches a template only as data: templates come from files, never
from message text, so `{{7*7}}` in a form is printed as typed; HTML bodies are
autoescaped; an undefined name is an error, not an empty string; the sandbox keeps an
edited template from reaching Python internals.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
    TemplateSyntaxError,
    select_autoescape,
)
from jinja2.sandbox import SandboxedEnvironment

from collabd.errors import CollabdError
from collabd.outbound.compose import clean_header

PARTS = ("subject", "txt", "html")
_WEEKDAYS = "一二三四五六日"


class TemplateProblem(CollabdError):
    pass


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def cn_date(value: Any) -> str:
    """2026年12月8日（周二）"""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value) if "T" in value else dt.date.fromisoformat(value)
    day = value.date() if isinstance(value, dt.datetime) else value
    return f"{day.year}年{day.month}月{day.day}日（周{_WEEKDAYS[day.weekday()]}）"


def cn_datetime(value: Any) -> str:
    """2026年12月8日（周二）18:00"""
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return f"{cn_date(value)}{value:%H:%M}"


class Templates:
    """The deployment's templates, falling back to the shipped ones for any it lacks (a
    deployment made by an older collabd keeps working after an upgrade, and a company
    overrides only the messages it wants to word differently)."""

    def __init__(self, directory: Path, defaults: Path | None = None) -> None:
        self.directory = directory
        self.defaults = defaults
        loaders = [FileSystemLoader(str(directory))]
        if defaults is not None and defaults.resolve() != directory.resolve():
            loaders.append(FileSystemLoader(str(defaults)))
        self.env = SandboxedEnvironment(
            loader=ChoiceLoader(loaders),
            undefined=StrictUndefined,
            autoescape=select_autoescape(enabled_extensions=("html.j2",),
                                         default_for_string=False, default=False),
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Templates are read once; a changed template is picked up on reload
            # (SIGHUP) or restart, not by a stat() of every file on every message.
            auto_reload=False,
        )
        self.env.filters["cn_date"] = cn_date
        self.env.filters["cn_datetime"] = cn_datetime
        # Examples in the text are dates ahead of now, never ones already past.
        self.env.filters["plus_days"] = lambda moment, days: moment + dt.timedelta(days=days)

    def exists(self, name: str) -> bool:
        return all((self.directory / f"{name}.{part}.j2").exists() for part in PARTS)

    def available(self, name: str) -> bool:
        """In the deployment, or shipped as a default."""
        return self.exists(name) or (self.defaults is not None and all(
            (self.defaults / f"{name}.{part}.j2").exists() for part in PARTS))

    def render(self, name: str, **context: Any) -> Rendered:
        try:
            subject = self.env.get_template(f"{name}.subject.j2").render(**context)
            text = self.env.get_template(f"{name}.txt.j2").render(**context)
            html = self.env.get_template(f"{name}.html.j2").render(**context)
        except TemplateNotFound as exc:
            raise TemplateProblem(f"{self.directory}: template {exc.name} is missing") from exc
        except TemplateError as exc:
            raise TemplateProblem(f"{self.directory}: template {name}: {exc}") from exc
        return Rendered(clean_header(subject), text, html)

    def available_text(self, name: str) -> bool:
        return (self.directory / f"{name}.txt.j2").exists() or (
            self.defaults is not None and (self.defaults / f"{name}.txt.j2").exists())

    def render_text(self, name: str, **context: Any) -> str:
        """One text template (`<name>.txt.j2`), e.g. a meeting agenda."""
        try:
            return self.env.get_template(f"{name}.txt.j2").render(**context).strip()
        except TemplateNotFound as exc:
            raise TemplateProblem(f"{self.directory}: template {exc.name} is missing") from exc
        except TemplateError as exc:
            raise TemplateProblem(f"{self.directory}: template {name}: {exc}") from exc

    def message_names(self) -> list[str]:
        names = {p.name.split(".")[0] for p in self.directory.glob("*.j2")
                 if not p.name.startswith(("_", "agenda_", "text_"))}
        return sorted(names)

    def check(self) -> list[str]:
        """Every problem as file:line: syntax errors, and messages missing a part."""
        problems: list[str] = []
        for path in sorted(self.directory.glob("*.j2")):
            try:
                self.env.parse(path.read_text(encoding="utf-8"), path.name, str(path))
            except TemplateSyntaxError as exc:
                problems.append(f"{path}:{exc.lineno}: template syntax error: {exc.message}")
            except UnicodeDecodeError:
                problems.append(f"{path}:1: not UTF-8 text")
        for name in self.message_names():
            for part in PARTS:
                if not (self.directory / f"{name}.{part}.j2").exists():
                    problems.append(f"{self.directory / f'{name}.{part}.j2'}: missing (every "
                                    f"message needs .subject.j2, .txt.j2 and .html.j2)")
        return problems
