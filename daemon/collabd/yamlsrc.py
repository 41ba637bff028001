"""YAML loading that remembers where each key was written, for errors that name file:line."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from collabd.errors import CollabdError

Loc = tuple[str | int, ...]


class ConfigError(CollabdError):
    """A configuration or rule file is wrong; the message lists every problem as file:line."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


@dataclass
class SourceMap:
    """Line numbers (1-based) of every mapping key and sequence item of one YAML file."""

    path: Path
    lines: dict[Loc, int]

    def line_of(self, loc: Loc) -> int:
        """The line of the deepest part of `loc` that exists in the file."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return 1

    def where(self, loc: Loc) -> str:
        return f"{self.path}:{self.line_of(loc)}"


class _Loader(yaml.SafeLoader):
    """The safe loader, with impossible dates (2026-13-01) reported at their line instead
    of escaping as a bare ValueError."""

    def construct_yaml_timestamp(self, node: yaml.Node) -> object:  # type: ignore[override]
        try:
            return super().construct_yaml_timestamp(node)  # type: ignore[arg-type]
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})",
                node.start_mark) from None


_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _index(loader: yaml.SafeLoader, node: yaml.Node, loc: Loc, lines: dict[Loc, int]) -> None:
    lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            child = (*loc, str(key))
            lines[child] = key_node.start_mark.line + 1
            _index(loader, value_node, child, lines)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            child = (*loc, index)
            lines[child] = item.start_mark.line + 1
            _index(loader, item, child, lines)


def load_yaml(path: Path) -> tuple[Any, SourceMap]:
    """Parse `path`; a syntax error becomes a ConfigError naming the file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    loader = _Loader(text)
    lines: dict[Loc, int] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return {}, SourceMap(path, {(): 1})
        _index(loader, node, (), lines)
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        if isinstance(exc, yaml.constructor.ConstructorError):
            # A value that cannot be what it looks like (a date 2026-13-01): name its key.
            key = max((loc for loc, at in lines.items() if at == line), key=len, default=())
            raise ConfigError([f"{path}:{line}: {_dotted(key)}: {exc.problem}"]) from None
        raise ConfigError([f"{path}:{line}: not valid YAML: {exc.problem or exc}"]) from None
    finally:
        loader.dispose()
    return data, SourceMap(path, lines)


def _dotted(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + part
    return out or "(top level)"


def _describe(error: Mapping[str, Any]) -> str:
    kind = error["type"]
    found = error.get("input")
    shown = repr(found) if not isinstance(found, dict | list) else type(found).__name__
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key (check its spelling; see the documented keys)"
    expected = {
        "int_parsing": "a whole number",
        "int_type": "a whole number",
        "float_parsing": "a number",
        "bool_parsing": "true or false",
        "bool_type": "true or false",
        "string_type": "a text value",
        "dict_type": "a mapping of keys to values",
        "model_type": "a mapping of keys to values",
        "list_type": "a list",
    }.get(kind)
    if expected is not None:
        return f"expected {expected}, found {shown}"
    message = str(error.get("msg", kind))
    message = message.removeprefix("Value error, ")
    last = str(error["loc"][-1]) if error["loc"] else ""
    if "password" in last or "secret" in last or last == "dsn" or isinstance(
            found, dict | list) or (
            "found" in message):
        return message  # never echo a secret; a mapping's repr says nothing useful
    return f"{message} (found {shown})"


def validate(model: type[BaseModel], data: Any, source: SourceMap,
             *, prefix: Loc = (), locate: Callable[[Loc], Loc] | None = None) -> Any:
    """Validate `data` against `model`; every error names file:line, the key, and why.
    `locate`: where in the file a key of `data` was written (for data merged from
    several places), instead of `prefix`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc: Loc = tuple(p for p in error["loc"] if not _is_union_tag(p))
            full = locate(loc) if locate is not None else (*prefix, *loc)
            problems.append(f"{source.where(full)}: {_dotted(full)}: {_describe(error)}")
        raise ConfigError(problems) from None


def _is_union_tag(part: object) -> bool:
    # pydantic inserts the tag of a discriminated/plain union member into `loc`
    # (e.g. 'function-after[...]'); it is not a key the user wrote.
    return isinstance(part, str) and ("[" in part or part.startswith("function-"))
