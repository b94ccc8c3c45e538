"""Asterisk's own ARI description, read at test time, and a validator for its JSON models.

The description lives beside the repository (`../shared/ari-spec`, Asterisk 22's `rest-api`
directory). Nothing of it is copied into the repository: tests read it when they run, so any
body or event the simulator produces can be checked against the shapes Asterisk documents.

Inheritance works the way the Swagger 1.1 documents express it: a base model lists its
`subTypes` (Message -> Event -> StasisStart ...) and names a `discriminator` (`type`); a subtype
has every property of its ancestors. Validating against a base model picks the subtype named by
the object's `type`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

#: Asterisk's JSON timestamps, e.g. 2026-11-29T08:31:09.123+0000.
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}[+-]\d{4}$")


def spec_dir() -> Path:
    """Where Asterisk's description sits; fails loudly when it is not there."""
    path = Path(__file__).resolve().parents[2] / ".." / "shared" / "ari-spec"
    if not (path / "resources.json").is_file() or not (path / "api-docs").is_dir():
        raise RuntimeError(
            f"Asterisk's ARI description was not found at {path.resolve()}: the contract tests need "
            "../shared/ari-spec (resources.json and api-docs/*.json from Asterisk 22) beside the repository"
        )
    return path


@dataclass(frozen=True)
class Spec:
    """Asterisk's resource listing, its api-docs documents by name, and every model by name."""

    listing: dict[str, Any]
    documents: dict[str, dict[str, Any]]
    models: dict[str, dict[str, Any]]
    model_file: dict[str, str]
    parents: dict[str, str]


@cache
def load_spec() -> Spec:
    root = spec_dir()
    listing = json.loads((root / "resources.json").read_text())
    documents: dict[str, dict[str, Any]] = {}
    for entry in listing["apis"]:
        name = Path(entry["path"]).name.split(".")[0]
        documents[name] = json.loads((root / "api-docs" / f"{name}.json").read_text())
    models: dict[str, dict[str, Any]] = {}
    model_file: dict[str, str] = {}
    parents: dict[str, str] = {}
    for name, doc in documents.items():
        for model_name, model in doc.get("models", {}).items():
            models[model_name] = model
            model_file[model_name] = name
            for sub in model.get("subTypes", []):
                parents[sub] = model_name
    return Spec(listing, documents, models, model_file, parents)


def lineage(name: str) -> list[str]:
    """The model and its ancestors, nearest first."""
    spec = load_spec()
    chain = [name]
    while chain[-1] in spec.parents:
        chain.append(spec.parents[chain[-1]])
    return chain


def all_properties(name: str) -> dict[str, dict[str, Any]]:
    """Every property of a model, including the inherited ones."""
    spec = load_spec()
    props: dict[str, dict[str, Any]] = {}
    for model_name in reversed(lineage(name)):
        props.update(spec.models[model_name].get("properties", {}))
    return props


def _descends_from(name: str, base: str) -> bool:
    return base in lineage(name)


def _check_primitive(kind: str, value: Any, where: str) -> list[str]:
    ok: bool
    if kind == "string":
        ok = isinstance(value, str)
    elif kind in ("int", "long"):
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif kind in ("double", "float", "number"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif kind == "boolean":
        ok = isinstance(value, bool)
    elif kind == "object":
        ok = isinstance(value, dict)
    elif kind == "Date":
        ok = isinstance(value, str) and bool(DATE_RE.match(value))
    else:
        return [f"{where}: unknown type {kind}"]
    return [] if ok else [f"{where}: {value!r} is not a valid {kind}"]


def _check_value(kind: str, value: Any, where: str) -> list[str]:
    if kind.startswith("List[") and kind.endswith("]"):
        if not isinstance(value, list):
            return [f"{where}: {value!r} is not a list"]
        inner = kind[5:-1]
        errors: list[str] = []
        for index, item in enumerate(value):
            errors.extend(_check_value(inner, item, f"{where}[{index}]"))
        return errors
    if kind in load_spec().models:
        return validation_errors(value, kind, where)
    return _check_primitive(kind, value, where)


def validation_errors(obj: Any, model: str, where: str = "$") -> list[str]:
    """Every way `obj` differs from Asterisk's model `model` (empty when it conforms)."""
    spec = load_spec()
    if model not in spec.models:
        return [f"{where}: Asterisk documents no model {model}"]
    if not isinstance(obj, dict):
        return [f"{where}: {obj!r} is not an object ({model})"]
    actual = model
    if spec.models[model].get("subTypes") or model in spec.parents:
        named = obj.get("type")
        if isinstance(named, str) and named in spec.models and _descends_from(named, model):
            actual = named
        elif spec.models[model].get("subTypes"):
            return [f"{where}: type {named!r} is not a kind of {model}"]
    props = all_properties(actual)
    errors: list[str] = []
    for name, prop in props.items():
        if name not in obj:
            if prop.get("required"):
                errors.append(f"{where}.{name}: required by {actual} but missing")
            continue
        errors.extend(_check_value(prop["type"], obj[name], f"{where}.{name}"))
        allowed = prop.get("allowableValues")
        if allowed and allowed.get("valueType") == "LIST" and obj[name] not in allowed["values"]:
            errors.append(f"{where}.{name}: {obj[name]!r} is not one of {allowed['values']}")
    for name in obj:
        if name not in props:
            errors.append(f"{where}.{name}: {actual} has no such field")
    return errors


def assert_valid(obj: Any, model: str) -> None:
    """Fail with every difference listed when `obj` does not match Asterisk's model."""
    errors = validation_errors(obj, model)
    assert not errors, f"not a valid {model}:\n  " + "\n  ".join(errors) + f"\n{json.dumps(obj, indent=1)}"


def assert_valid_event(event: Any) -> None:
    """An event as sent on the websocket: a Message whose `type` names a documented event."""
    assert isinstance(event, dict) and isinstance(event.get("type"), str), f"not an event: {event!r}"
    assert event["type"] in load_spec().models, f"Asterisk documents no event {event['type']}"
    assert_valid(event, "Message")


def assert_valid_response(body: Any, response_class: str) -> None:
    """A REST body against an operation's responseClass (`Channel`, `List[Bridge]`, ...)."""
    errors = _check_value(response_class, body, "$")
    assert not errors, f"not a valid {response_class}:\n  " + "\n  ".join(errors)
