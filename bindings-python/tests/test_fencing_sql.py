"""The SQL guard (elect.fencing.fenced) against a real PostgreSQL, with psycopg 3."""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Any, Iterator, Tuple
from urllib.parse import unquote, urlsplit

import pytest

from conftest import WAIT, Servers, server_uri, wait_until
from elect import fencing

psycopg = pytest.importorskip("psycopg")
LOCK_WAIT = "the stale writer waits for the fence row"


@pytest.fixture
def db(servers: Servers) -> Iterator[Tuple[str, str]]:
    """(uri, table): a fresh table of records, and the fence table, in the test PostgreSQL."""
    uri = server_uri(servers, "postgres")
    table = f"records_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(fencing.create_table_sql())
        conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, token bigint NOT NULL)")
    yield uri, table
    with psycopg.connect(uri, autocommit=True) as conn:
        conn.execute(f"DROP TABLE {table}")


def rows(uri: str, table: str) -> list:
    with psycopg.connect(uri) as conn:
        return conn.execute(f"SELECT id, token FROM {table} ORDER BY id").fetchall()


class StaleWriter(threading.Thread):
    """Writes row ``id`` under ``token`` through the guard on ``conn``, in a thread; ``outcome``
    is "written" or the StaleTokenError."""

    def __init__(self, conn: Any, table: str, id: int, token: int, dialect: str) -> None:
        super().__init__()
        self.args_ = (conn, table, id, token, dialect)
        self.outcome: list = []

    def run(self) -> None:
        conn, table, id, token, dialect = self.args_
        try:
            with fencing.fenced(conn, table, token, dialect=dialect) as c:
                c.execute(f"INSERT INTO {table} VALUES (%s, %s)", (id, token))
            self.outcome.append("written")
        except fencing.StaleTokenError as e:
            self.outcome.append(e)



def test_stale_token_is_rejected_and_does_not_write(db: Tuple[str, str], terms: Tuple[int, int]) -> None:
    uri, table = db
    older, newer = terms
    resource = f"res-{table}"
    with psycopg.connect(uri) as conn:
        with fencing.fenced(conn, resource, older) as cur:
            cur.execute(f"INSERT INTO {table} VALUES (1, %s)", (older,))
        with fencing.fenced(conn, resource, newer) as cur:
            cur.execute(f"INSERT INTO {table} VALUES (2, %s)", (newer,))
        with pytest.raises(fencing.StaleTokenError) as err:
            with fencing.fenced(conn, resource, older) as cur:
                cur.execute(f"INSERT INTO {table} VALUES (3, %s)", (older,))
        assert err.value.highest == newer and err.value.token == older and resource in str(err.value)
        with fencing.fenced(conn, resource, newer) as cur:  # the same term writes again
            cur.execute(f"INSERT INTO {table} VALUES (4, %s)", (newer,))
    assert rows(uri, table) == [(1, older), (2, newer), (4, newer)]


def test_an_older_writer_queued_behind_a_newer_one_is_rejected(db: Tuple[str, str], terms: Tuple[int, int]) -> None:
    """The fence row lock orders concurrent writers; the check reads the committed token."""
    uri, table = db
    older, newer = terms
    with psycopg.connect(uri) as first, psycopg.connect(uri) as second:
        pid = second.info.backend_pid
        with fencing.fenced(first, table, newer) as cur:
            cur.execute(f"INSERT INTO {table} VALUES (1, %s)", (newer,))
            t = StaleWriter(second, table, 2, older, fencing.POSTGRESQL)
            t.start()
            with psycopg.connect(uri, autocommit=True) as watch:
                q = "SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'"
                wait_until(lambda: watch.execute(q, (pid,)).fetchone() is not None, LOCK_WAIT)
        t.join(WAIT)
    assert len(t.outcome) == 1 and isinstance(t.outcome[0], fencing.StaleTokenError)
    assert rows(uri, table) == [(1, newer)]


def test_bad_input_is_named(db: Tuple[str, str]) -> None:
    uri, _ = db
    with psycopg.connect(uri) as conn:
        with pytest.raises(ValueError, match="not leading"):
            with fencing.fenced(conn, "r", None):
                pass
        with pytest.raises(ValueError, match="out of range"):
            with fencing.fenced(conn, "r", 0):
                pass
        with pytest.raises(ValueError, match="dialect"):
            fencing.create_table_sql("oracle")
        with pytest.raises(ValueError, match="identifier"):
            fencing.create_table_sql(table="x; DROP TABLE y")
    with psycopg.connect(uri, autocommit=True) as conn:
        with pytest.raises(ValueError, match="autocommit"):
            with fencing.fenced(conn, "r", 1):
                pass


def test_sqlite_dialect(tmp_path: Path, terms: Tuple[int, int]) -> None:
    older, newer = terms
    conn = sqlite3.connect(tmp_path / "db.sqlite")
    conn.execute(fencing.create_table_sql(fencing.SQLITE))
    conn.execute("CREATE TABLE records (id int PRIMARY KEY, token bigint NOT NULL)")
    with fencing.fenced(conn, "records", newer, dialect=fencing.SQLITE) as cur:
        cur.execute("INSERT INTO records VALUES (1, ?)", (newer,))
    with pytest.raises(fencing.StaleTokenError) as err:
        with fencing.fenced(conn, "records", older, dialect=fencing.SQLITE) as cur:
            cur.execute("INSERT INTO records VALUES (2, ?)", (older,))
    assert err.value.highest == newer
    assert conn.execute("SELECT id, token FROM records").fetchall() == [(1, newer)]
    conn.close()


def test_mysql_dialect(servers: Servers, terms: Tuple[int, int]) -> None:
    """The MySQL dialect on MariaDB, with PyMySQL; an older writer queued behind a newer one too."""
    pymysql = pytest.importorskip("pymysql")
    u = urlsplit(server_uri(servers, "mysql"))

    def connect() -> Any:
        return pymysql.connect(host=u.hostname, port=u.port, user=u.username, password=unquote(u.password or ""), database=u.path[1:])

    older, newer = terms
    table = f"records_{uuid.uuid4().hex[:10]}"
    with connect() as conn:
        with conn.cursor() as cur:
            cur.execute(fencing.create_table_sql(fencing.MYSQL))
            cur.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, token bigint NOT NULL) ENGINE=InnoDB")
        conn.commit()
        try:
            with fencing.fenced(conn, table, older, dialect=fencing.MYSQL) as cur:
                cur.execute(f"INSERT INTO {table} VALUES (1, %s)", (older,))
            with fencing.fenced(conn, table, newer, dialect=fencing.MYSQL) as cur:
                cur.execute(f"INSERT INTO {table} VALUES (2, %s)", (newer,))
            with pytest.raises(fencing.StaleTokenError) as err:
                with fencing.fenced(conn, table, older, dialect=fencing.MYSQL) as cur:
                    cur.execute(f"INSERT INTO {table} VALUES (3, %s)", (older,))
            assert err.value.highest == newer

            # A newer writer holds the fence row; an older one queues behind it and is refused.
            with connect() as second:
                with fencing.fenced(conn, table, newer + 1, dialect=fencing.MYSQL) as cur:
                    cur.execute(f"INSERT INTO {table} VALUES (4, %s)", (newer + 1,))
                    t = StaleWriter(second, table, 5, newer, fencing.MYSQL)
                    t.start()
                    # As root: innodb_trx needs the PROCESS privilege.
                    root = pymysql.connect(unix_socket=os.environ["ELECT_MYSQL_SOCKET"], user="root")
                    with root as watch, watch.cursor() as w:
                        q = "SELECT count(*) FROM information_schema.innodb_trx WHERE trx_state = 'LOCK WAIT'"
                        wait_until(lambda: bool(w.execute(q)) and w.fetchone()[0] > 0, LOCK_WAIT)
                t.join(WAIT)
            assert len(t.outcome) == 1 and isinstance(t.outcome[0], fencing.StaleTokenError), t.outcome
            with conn.cursor() as cur:
                cur.execute(f"SELECT id FROM {table} ORDER BY id")
                assert [r[0] for r in cur.fetchall()] == [1, 2, 4]
            conn.commit()
        finally:
            with conn.cursor() as cur:
                cur.execute(f"DROP TABLE {table}")
