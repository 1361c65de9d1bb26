"""The product catalogue in a real SQL database, for the search route of both twins.

SQLite (in memory, a fresh copy per query) by default; PostgreSQL through psycopg when the twin
is served with a ``postgresql://`` URL (the end-to-end suite does, to prove SD403 on real
driver errors). The vulnerable twin builds its query by string formatting; the hardened twin
binds parameters. The driver's exception is raised as it is: what a twin does with it is the
twin's business.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from typing import Any, Protocol

from specdiff.demo.data import PRODUCTS

__all__ = ["Catalogue"]

_CREATE = "CREATE TABLE IF NOT EXISTS products (id INTEGER PRIMARY KEY, name TEXT, price REAL)"
_ROWS = [(p.id, p.name, p.price) for p in PRODUCTS]


class _Cursor(Protocol):
    def execute(self, query: Any, params: Any = ..., /) -> Any: ...
    def fetchall(self) -> list[Any]: ...


class Catalogue:
    """Product search over one SQL database: SQLite when ``database_url`` is None, else the
    PostgreSQL database it names (seeded on construction)."""

    def __init__(self, database_url: str | None = None) -> None:
        self._url = database_url
        self.paramstyle = "%s" if database_url else "?"
        if database_url:
            with self._cursor() as cur:
                cur.execute(_CREATE)
                cur.execute("DELETE FROM products")
                for row in _ROWS:
                    cur.execute("INSERT INTO products VALUES (%s, %s, %s)", row)

    @contextmanager
    def _cursor(self) -> Iterator[_Cursor]:
        if self._url is None:
            with closing(sqlite3.connect(":memory:")) as lite:
                lite.execute(_CREATE)
                lite.executemany("INSERT INTO products VALUES (?, ?, ?)", _ROWS)
                yield lite.cursor()
            return
        import psycopg  # only the end-to-end suite's PostgreSQL twin needs the driver

        with psycopg.connect(self._url, autocommit=True) as pg, pg.cursor() as cur:
            yield cur

    def search_formatted(self, text: str, limit: int) -> list[dict[str, Any]]:
        """The careless way: the query is built by string formatting (injectable)."""
        where = f"name LIKE '%{text}%'"
        sql = f"SELECT id, name, price FROM products WHERE {where} ORDER BY id LIMIT {limit}"
        return self._rows(sql, ())

    def search_bound(self, text: str, limit: int) -> list[dict[str, Any]]:
        """The right way: bound parameters."""
        p = self.paramstyle
        sql = f"SELECT id, name, price FROM products WHERE name LIKE {p} ORDER BY id LIMIT {p}"
        return self._rows(sql, (f"%{text}%", limit))

    def _rows(self, sql: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
        with self._cursor() as cur:
            if params:
                cur.execute(sql, params)
            else:  # no placeholders to fill: a '%' in the text must stay a '%'
                cur.execute(sql)
            return [{"id": r[0], "name": r[1], "price": float(r[2])} for r in cur.fetchall()]
