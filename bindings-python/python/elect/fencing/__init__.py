"""The resource side of fencing: reject a stale leader's write, atomically with the write.

A leader hands its term's fencing token (:attr:`elect.Election.fencing_token`) to every
resource it writes; the resource remembers the highest token it accepted and rejects lower
ones. The design, shared by every language's kit, is ``docs/fencing.md``.

SQL (DB-API; psycopg 3 for PostgreSQL, PyMySQL or mysqlclient for MySQL/MariaDB)::

    with elect.fencing.fenced(conn, "invoices", election.fencing_token) as cur:
        cur.execute("UPDATE invoices SET state = 'sent' WHERE id = %s", (42,))

HTTP: :func:`http_headers` on the client, :class:`FencingWSGIMiddleware` or
:class:`FencingASGIMiddleware` on the server (409 for a stale token).

Redis (redis-py): :func:`redis_set`.
"""

from ._errors import StaleTokenError
from ._gate import AsyncFenceGate, FenceGate
from ._http import (
    ELECTION_HEADER,
    TOKEN_HEADER,
    FencingASGIMiddleware,
    FencingWSGIMiddleware,
    http_headers,
)
from ._redis import redis_set
from ._sql import MYSQL, POSTGRESQL, SQLITE, create_table_sql, fence, fenced

__all__ = [
    "ELECTION_HEADER",
    "MYSQL",
    "POSTGRESQL",
    "SQLITE",
    "TOKEN_HEADER",
    "AsyncFenceGate",
    "FenceGate",
    "FencingASGIMiddleware",
    "FencingWSGIMiddleware",
    "StaleTokenError",
    "create_table_sql",
    "fence",
    "fenced",
    "http_headers",
    "redis_set",
]
