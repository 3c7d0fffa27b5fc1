"""The SQL guard: a fence row per resource, raised in the transaction of the guarded write."""

from __future__ import annotations

import re
from contextlib import contextmanager
from typing import Any, Iterator, Optional, Protocol, Sequence

from ._errors import StaleTokenError, check_token

POSTGRESQL = "postgresql"
MYSQL = "mysql"
#: SQLite 3.35 or later (``RETURNING``), with the qmark paramstyle of Python's sqlite3.
SQLITE = "sqlite"

_TABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$")


class Cursor(Protocol):
    """The part of a DB-API cursor the guard uses (format/pyformat paramstyle)."""

    def execute(self, query: Any, params: Any = ..., /) -> Any: ...

    def fetchone(self) -> Optional[Sequence[Any]]: ...

    def close(self) -> Any: ...


class Connection(Protocol):
    """The part of a DB-API connection :func:`fenced` uses."""

    def cursor(self) -> Any: ...

    def commit(self) -> Any: ...

    def rollback(self) -> Any: ...


def _table(table: str) -> str:
    if not _TABLE.match(table):
        raise ValueError(f"fence table name {table!r} is not a plain SQL identifier")
    return table


def _dialect(dialect: str) -> str:
    if dialect not in (POSTGRESQL, MYSQL, SQLITE):
        raise ValueError(f"unknown SQL dialect {dialect!r}: use {POSTGRESQL!r}, {MYSQL!r} or {SQLITE!r}")
    return dialect


def create_table_sql(dialect: str = POSTGRESQL, table: str = "elect_fence") -> str:
    """The ``CREATE TABLE IF NOT EXISTS`` of the fence table, for migrations and demos."""
    if _dialect(dialect) in (POSTGRESQL, SQLITE):
        return f"CREATE TABLE IF NOT EXISTS {_table(table)} (resource text PRIMARY KEY, token bigint NOT NULL)"
    return (
        f"CREATE TABLE IF NOT EXISTS {_table(table)} "
        "(resource varchar(255) PRIMARY KEY, token bigint NOT NULL) ENGINE=InnoDB"
    )


def fence(
    cursor: Cursor, resource: str, token: Optional[int], *, dialect: str = POSTGRESQL, table: str = "elect_fence"
) -> None:
    """Raise the fence of ``resource`` to ``token`` inside the cursor's open transaction.

    Raises :class:`StaleTokenError` when a higher token has been seen; the caller must then roll
    back. Otherwise the fence row stays locked until the transaction ends, so the statements run
    after it in the same transaction are the write the token guards.
    """
    token = check_token(token)
    t = _table(table)
    if _dialect(dialect) in (POSTGRESQL, SQLITE):
        p = "?" if dialect == SQLITE else "%s"
        cursor.execute(
            f"INSERT INTO {t} (resource, token) VALUES ({p}, {p}) "
            f"ON CONFLICT (resource) DO UPDATE SET token = EXCLUDED.token WHERE {t}.token <= EXCLUDED.token "
            "RETURNING token",
            (resource, token),
        )
        if cursor.fetchone() is None:
            cursor.execute(f"SELECT token FROM {t} WHERE resource = {p}", (resource,))
            row = cursor.fetchone()
            raise StaleTokenError(resource, token, int(row[0]) if row else None)
        return
    cursor.execute(
        f"INSERT INTO {t} (resource, token) VALUES (%s, %s) ON DUPLICATE KEY UPDATE token = GREATEST(token, %s)",
        (resource, token, token),
    )
    cursor.execute(f"SELECT token FROM {t} WHERE resource = %s FOR UPDATE", (resource,))
    row = cursor.fetchone()
    highest = int(row[0]) if row else None
    if highest is None or highest > token:
        raise StaleTokenError(resource, token, highest)


@contextmanager
def fenced(
    conn: Connection, resource: str, token: Optional[int], *, dialect: str = POSTGRESQL, table: str = "elect_fence"
) -> Iterator[Any]:
    """A cursor whose statements commit only if ``token`` is not stale, all in one transaction.

    The fence is raised first; the block's statements follow; the transaction commits when the
    block ends, and rolls back if it raises (a :class:`StaleTokenError` from the fence included,
    so the block does not run at all for a stale token). The connection must not be in
    autocommit mode, which would commit the fence apart from the write.
    """
    if getattr(conn, "autocommit", False) is True or (dialect == SQLITE and getattr(conn, "isolation_level", "") is None):
        raise ValueError("fenced() needs a connection with autocommit off: the fence and the write must share a transaction")
    cursor = conn.cursor()
    try:
        fence(cursor, resource, token, dialect=dialect, table=table)
        yield cursor
    except BaseException:
        conn.rollback()
        raise
    else:
        conn.commit()
    finally:
        cursor.close()
