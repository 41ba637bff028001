"""Every record the procedure leaves has the shape collabd.model says (no field the
model does not name, no value of another type): the types stay the one place that
says what a request, problem, meeting and task hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from collabd import model
from collabd.store import Store
from helpers import (
    DATA,
    Harness,
    collabd,
    default_rules,
    make_deployment,
    message,
    reply_to,
    shape_problems,
)
from plans import plan_xlsx, with_attachment


def _strict(kind: type) -> TypeAdapter[Any]:
    shape_problems([])  # (makes every model TypedDict forbid fields it does not name)
    return TypeAdapter(kind)


@pytest.fixture(scope="module")
def demo_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """What the demo leaves, and what it does not make: a request to three
    departments (seed 003's form), a problem the secretary grades 重要 and a project."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    collabd("demo", "--out", str(out))
    store = Store(out / "state", readonly=True).open()
    records = list(store.values("records"))
    h = Harness(make_deployment(tmp_path_factory.mktemp("more") / "deploy"),
                "2026-12-01 10:00")
    try:
        h.at("2026-12-01 10:05", (DATA / "seed003_request.eml").read_bytes())
        finance = h.sent("新的跨部门需求", to="zheng.hao@example.com")
        h.at("2026-12-01 11:00", reply_to(finance, sender="郑浩 <zheng.hao@example.com>",
                                          text="财务部已收到。"))
        h.at("2026-12-01 11:30", message(
            sender="陈晨 <chen.chen@example.com>", subject="问题反馈单：报表口径",
            message_id="<model-problem@example.com>",
            body="问题标题：报表口径\n涉及部门：财务部\n问题描述：口径不一致。\n严重程度：一般\n"))
        notice = h.sent("报表口径", to="zheng.hao@example.com")
        h.at("2026-12-01 14:00", reply_to(notice, sender="李静 <li.jing@example.com>",
                                          text="分级：重要"))
        h.at("2026-12-01 15:00", with_attachment(
            sender="刘洋 <liu.yang@example.com>", subject="项目计划", body="见附件。",
            filename="计划.xlsx", data=plan_xlsx(default_rules()),
            message_id="<model-project@example.com>"))
        records += list(h.daemon.store.values("records"))
    finally:
        h.close()
    assert any(r.get("departments") for r in records)
    assert any(r.get("graded_by") for r in records)
    return records


def test_every_record_of_a_full_run_has_the_models_shape(
        demo_records: list[dict[str, Any]]) -> None:
    kinds = {r["kind"] for r in demo_records}
    assert kinds == set(model.KINDS)  # one of each at least
    problems = shape_problems(demo_records)
    assert not problems, "\n".join(problems)


def test_a_field_the_model_does_not_name_is_caught(
        demo_records: list[dict[str, Any]]) -> None:
    record = dict(next(r for r in demo_records if r["kind"] == "request"))
    record["surprise"] = 1
    with pytest.raises(ValidationError):
        _strict(model.Request).validate_python(record)
    record = dict(next(r for r in demo_records if r["kind"] == "request"))
    record["receiver_dept"] = ["研发部"]  # a list where the model says a name
    with pytest.raises(ValidationError):
        _strict(model.Request).validate_python(record)


def test_an_old_record_loads(tmp_path: Path) -> None:
    # Only the common fields: every other field is optional.
    old = {"id": "XQ-2025-0001", "kind": "request", "schema": 1, "created": "x",
           "updated": "x", "audit": []}
    _strict(model.Request).validate_python(old)


def test_a_nested_field_the_model_does_not_name_is_caught(
        demo_records: list[dict[str, Any]]) -> None:
    meeting = next(r for r in demo_records if r["kind"] == "meeting"
                   and r.get("minutes", {}).get("rounds"))
    _strict(model.Meeting).validate_python(meeting)
    changed = {**meeting, "minutes": {**meeting["minutes"], "rounds": [
        {**meeting["minutes"]["rounds"][0], "surprise": 1}]}}
    with pytest.raises(ValidationError):
        _strict(model.Meeting).validate_python(changed)
