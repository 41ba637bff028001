"""Every record the procedure leaves has the shape collabd.model says (no field the
model does not name, no value of another type): the types stay the one place that
says what a request, problem, meeting and task hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ConfigDict, TypeAdapter, ValidationError, with_config

from collabd import model
from collabd.store import Store
from helpers import collabd


def _strict(kind: type) -> TypeAdapter[Any]:
    @with_config(ConfigDict(extra="forbid"))
    class Checked(kind):  # type: ignore[misc, valid-type]
        pass

    return TypeAdapter(Checked)


@pytest.fixture(scope="module")
def demo_records(tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo") / "demo"
    collabd("demo", "--out", str(out))
    store = Store(out / "state", readonly=True).open()
    return list(store.values("records"))


def test_every_record_of_a_full_run_has_the_models_shape(
        demo_records: list[dict[str, Any]]) -> None:
    adapters = {kind: _strict(t) for kind, t in model.KINDS.items()}
    kinds = {r["kind"] for r in demo_records}
    assert kinds == set(model.KINDS)  # the demo makes one of each
    problems = []
    for record in demo_records:
        try:
            adapters[record["kind"]].validate_python(record)
        except ValidationError as exc:
            problems.append(f"{record['id']}: {exc}")
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
