"""The simulator's description of ARI against Asterisk 22's own, operation by operation.

A mismatch here means a client written for Asterisk would see a different API from the
simulator: a path, a parameter, an allowed value or a model field that drifted.
"""

from __future__ import annotations

from typing import Any

import pytest

from ari_sim.description import MODELS, OPERATIONS, RESOURCES, Model, Operation, Param

from .ari_models import load_spec


def _spec_operations() -> dict[tuple[str, str, str], tuple[str, dict[str, Any]]]:
    """(resource, method, path) -> (nickname, operation) for every operation Asterisk documents."""
    found: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
    for resource, doc in load_spec().documents.items():
        for api in doc["apis"]:
            for op in api["operations"]:
                found[(resource, op["httpMethod"], api["path"])] = (op["nickname"], op)
    return found


def _ours(op: Operation) -> tuple[str, str, str]:
    return (op.resource, op.method, op.path)


def test_resources_are_the_same_documents_in_the_same_order() -> None:
    listed = [entry["path"].split("/")[-1].split(".")[0] for entry in load_spec().listing["apis"]]
    assert [res.name for res in RESOURCES] == listed


def test_every_asterisk_operation_is_declared() -> None:
    declared = {_ours(op): op.nickname for op in OPERATIONS}
    missing = [
        f"{method} {path} ({resource}.{nick})"
        for (resource, method, path), (nick, _) in _spec_operations().items()
        if declared.get((resource, method, path)) != nick
    ]
    assert not missing, "operations Asterisk has that the simulator does not declare: " + ", ".join(missing)
    assert len(OPERATIONS) == len(_spec_operations())


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.key)
def test_operation_matches_asterisk(op: Operation) -> None:
    spec_ops = _spec_operations()
    assert _ours(op) in spec_ops, f"Asterisk has no {op.method} {op.path} in {op.resource}.json"
    nickname, theirs = spec_ops[_ours(op)]
    assert op.nickname == nickname
    assert op.response == theirs["responseClass"]
    assert op.websocket == (theirs.get("upgrade") == "websocket")
    assert sorted(code for code, _ in op.errors) == sorted(
        int(err["code"]) for err in theirs.get("errorResponses", [])
    )
    their_params = {p["name"]: p for p in theirs.get("parameters", [])}
    assert [p.name for p in op.params] == list(their_params), "parameter names or order differ"
    for param in op.params:
        _assert_same_param(param, their_params[param.name])


def _assert_same_param(ours: Param, theirs: dict[str, Any]) -> None:
    where = f"parameter {ours.name}"
    assert ours.where == theirs["paramType"], where
    assert ours.data_type == theirs["dataType"], where
    # Swagger 1.1 path parameters are always required, whether or not the document says so.
    their_required = bool(theirs.get("required")) or theirs["paramType"] == "path"
    assert ours.required == their_required, where
    assert ours.multiple == bool(theirs.get("allowMultiple", False)), where
    allowed = theirs.get("allowableValues")
    if allowed is None:
        assert ours.choices == () and ours.minimum is None, where
    elif allowed["valueType"] == "LIST":
        assert list(ours.choices) == allowed["values"], where
    else:
        assert allowed["valueType"] == "RANGE", where
        assert ours.minimum == allowed.get("min"), where
        assert "max" not in allowed, where
    assert ours.default == theirs.get("defaultValue"), where
    if isinstance(ours.default, bool) or isinstance(theirs.get("defaultValue"), bool):
        assert type(ours.default) is type(theirs.get("defaultValue")), where


def test_every_asterisk_model_is_declared_in_the_same_document() -> None:
    spec = load_spec()
    assert set(MODELS) == set(spec.models)
    for name, model in MODELS.items():
        assert model.resource == spec.model_file[name], name


@pytest.mark.parametrize("model", list(MODELS.values()), ids=lambda m: m.name)
def test_model_matches_asterisk(model: Model) -> None:
    theirs = load_spec().models[model.name]
    their_props = theirs.get("properties", {})
    assert [p.name for p in model.props] == list(their_props), "property names or order differ"
    for prop in model.props:
        spec_prop = their_props[prop.name]
        assert prop.type == spec_prop["type"], prop.name
        assert prop.required == bool(spec_prop.get("required")), prop.name
        allowed = spec_prop.get("allowableValues")
        assert list(prop.choices) == (allowed["values"] if allowed else []), prop.name
    assert list(model.sub_types) == theirs.get("subTypes", [])
    assert model.discriminator == theirs.get("discriminator")


def test_every_type_named_in_the_description_is_known() -> None:
    primitives = {"string", "int", "long", "double", "boolean", "Date", "object", "void", "binary"}

    def known(kind: str) -> bool:
        inner = kind[5:-1] if kind.startswith("List[") else kind
        return inner in primitives or inner in MODELS

    bad = [f"{op.key}: {op.response}" for op in OPERATIONS if not known(op.response)]
    bad += [f"{m.name}.{p.name}: {p.type}" for m in MODELS.values() for p in m.props if not known(p.type)]
    assert not bad
