"""Describe a live database's schema in plain data, and list the differences between two of them.

Both sides are read back from the server by reflection, so the comparison is about what MySQL/MariaDB
actually built, not about how the DDL was spelled.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, inspect
from sqlalchemy.dialects import mysql

_MYSQL = mysql.dialect()


@dataclass
class TableShape:
    """Everything about one table that the two schema definitions must agree on."""

    columns: list[tuple[Any, ...]] = field(default_factory=list)
    primary_key: tuple[str, ...] = ()
    unique: set[tuple[Any, ...]] = field(default_factory=set)
    indexes: set[tuple[Any, ...]] = field(default_factory=set)
    foreign_keys: set[tuple[Any, ...]] = field(default_factory=set)
    checks: set[tuple[str, str]] = field(default_factory=set)
    options: dict[str, str] = field(default_factory=dict)


def _normalise_sql(text: str | None) -> str:
    return " ".join((text or "").replace("`", "").split()).lower()


def describe(engine: Engine) -> dict[str, TableShape]:
    """The shape of every table in the engine's database."""
    inspector = inspect(engine)
    shapes: dict[str, TableShape] = {}
    for table in sorted(inspector.get_table_names()):
        shape = TableShape()
        for column in inspector.get_columns(table):
            shape.columns.append(
                (
                    column["name"],
                    column["type"].compile(dialect=_MYSQL),
                    column["nullable"],
                    _normalise_sql(column.get("default")),
                    bool(column.get("autoincrement", False)),
                )
            )
        shape.primary_key = tuple(inspector.get_pk_constraint(table)["constrained_columns"])
        shape.unique = {
            (item["name"], tuple(item["column_names"])) for item in inspector.get_unique_constraints(table)
        }
        shape.indexes = {
            (item["name"], tuple(str(name) for name in item["column_names"]), bool(item["unique"]))
            for item in inspector.get_indexes(table)
        }
        shape.foreign_keys = {
            (
                item["name"],
                tuple(item["constrained_columns"]),
                item["referred_table"],
                tuple(item["referred_columns"]),
                tuple(sorted((key, str(value).upper()) for key, value in item["options"].items())),
            )
            for item in inspector.get_foreign_keys(table)
        }
        shape.checks = {
            (str(item["name"]), _normalise_sql(item["sqltext"]))
            for item in inspector.get_check_constraints(table)
        }
        options = inspector.get_table_options(table)
        shape.options = {
            key: str(value).lower()
            for key, value in options.items()
            if key in ("mysql_engine", "mysql_default charset", "mysql_collate")
        }
        shapes[table] = shape
    return shapes


def differences(left: dict[str, TableShape], right: dict[str, TableShape]) -> list[str]:
    """Human-readable differences between two schema descriptions (empty when identical)."""
    found: list[str] = []
    for table in sorted(set(left) - set(right)):
        found.append(f"table {table}: only in the first schema")
    for table in sorted(set(right) - set(left)):
        found.append(f"table {table}: only in the second schema")
    for table in sorted(set(left) & set(right)):
        a, b = left[table], right[table]
        a_columns = {column[0]: column for column in a.columns}
        b_columns = {column[0]: column for column in b.columns}
        for name in sorted(set(a_columns) | set(b_columns)):
            if a_columns.get(name) != b_columns.get(name):
                found.append(f"column {table}.{name}: {a_columns.get(name)} != {b_columns.get(name)}")
        if [column[0] for column in a.columns] != [column[0] for column in b.columns] and set(
            a_columns
        ) == set(b_columns):
            found.append(f"table {table}: column order differs")
        for label in ("primary_key", "unique", "indexes", "foreign_keys", "checks", "options"):
            first, second = getattr(a, label), getattr(b, label)
            if first != second:
                if isinstance(first, set) and isinstance(second, set):
                    found.append(
                        f"{label} of {table}: only first {sorted(first - second)}, "
                        f"only second {sorted(second - first)}"
                    )
                else:
                    found.append(f"{label} of {table}: {first} != {second}")
    return found
