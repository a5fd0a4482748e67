"""Set-wise writes through `unnest`: one array parameter per column, whatever the number of rows, so the SQL
text (and its compiled and parsed forms, which SQLAlchemy and psycopg cache) stays the same for any batch."""
from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from psycopg.types.json import Jsonb
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import JSONB

_DIALECT = postgresql.dialect()


def _sql_type(column: sa.Column[Any]) -> str:
    return column.type.compile(_DIALECT)


@functools.cache
def _insert_sql(table: sa.Table, columns: tuple[str, ...], conflict: tuple[str, ...] | None,
                returning: tuple[str, ...]) -> sa.TextClause:
    arrays = ", ".join(f"CAST(:{c} AS {_sql_type(table.c[c])}[])" for c in columns)
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays})"
    if conflict is not None:
        sql += f" ON CONFLICT ({', '.join(conflict)}) DO NOTHING" if conflict else " ON CONFLICT DO NOTHING"
    if returning:
        sql += f" RETURNING {', '.join(returning)}"
    return sa.text(sql)


def _column_arrays(table: sa.Table, columns: Sequence[str], rows: Sequence[dict[str, Any]]) -> dict[str, list[Any]]:
    arrays = {}
    for name in columns:
        values = [row[name] for row in rows]
        if isinstance(table.c[name].type, JSONB):
            values = [None if v is None else Jsonb(v) for v in values]
        arrays[name] = values
    return arrays


def insert_rows(table: sa.Table, rows: Sequence[dict[str, Any]], *, skip_conflicts_on: tuple[str, ...] | None = None,
                returning: tuple[str, ...] = ()) -> tuple[sa.TextClause, dict[str, list[Any]]]:
    """INSERT … SELECT * FROM unnest(…) for `rows` (dicts with the same keys). With `skip_conflicts_on`,
    rows that collide on those columns (or, with `()`, on any unique key) are skipped."""
    columns = tuple(rows[0])
    for name in (*columns, *(skip_conflicts_on or ()), *returning):
        table.c[name]  # noqa: B018 — only column names of the table are ever written into the SQL
    return _insert_sql(table, columns, skip_conflicts_on, returning), _column_arrays(table, columns, rows)


@functools.cache
def _update_sql(table: sa.Table, key: str, columns: tuple[str, ...], scope: str, only_forward: tuple[str, ...],
                increments: tuple[str, ...] = ()) -> sa.TextClause:
    names = (key, *columns)
    arrays = ", ".join(f"CAST(:{c} AS {_sql_type(table.c[c])}[])" for c in names)
    assignments = ", ".join(f"{c} = GREATEST({table.name}.{c}, changes.{c})" if c in only_forward else
                            f"{c} = {table.name}.{c} + changes.{c}" if c in increments else
                            f"{c} = changes.{c}" for c in columns)
    return sa.text(f"UPDATE {table.name} SET {assignments} FROM unnest({arrays}) AS changes({', '.join(names)}) "
                   f"WHERE {table.name}.{key} = changes.{key} AND {table.name}.{scope} = :scope")


def update_rows(table: sa.Table, key: str, rows: Sequence[dict[str, Any]], *, scope: tuple[str, Any],
                only_forward: tuple[str, ...] = (), increments: tuple[str, ...] = ()
                ) -> tuple[sa.TextClause, dict[str, Any]]:
    """UPDATE … FROM unnest(…): each row's columns set on the row with its `key`, within `scope`; the
    `only_forward` columns never move backwards (GREATEST of the stored and the new value), and the
    `increments` are added to the stored value (so concurrent writers' counts add up)."""
    columns = tuple(c for c in rows[0] if c != key)
    for name in (key, *columns, scope[0], *only_forward, *increments):
        table.c[name]  # noqa: B018 — only column names of the table are ever written into the SQL
    params: dict[str, Any] = _column_arrays(table, (key, *columns), rows)
    params["scope"] = scope[1]
    return _update_sql(table, key, columns, scope[0], only_forward, increments), params
