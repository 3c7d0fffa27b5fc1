"""The SQL guard (elect.fencing.fenced) against a real PostgreSQL, with psycopg 3."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from pathlib import Path
from typing import Iterator, Tuple

import pytest

from conftest import WAIT, Servers, server_uri
from elect import fencing

psycopg = pytest.importorskip("psycopg")


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
    resource = f"res-{table}"
    outcome: list = []
    with psycopg.connect(uri) as first, psycopg.connect(uri) as second:
        pid = second.info.backend_pid
        with fencing.fenced(first, resource, newer) as cur:
            cur.execute(f"INSERT INTO {table} VALUES (1, %s)", (newer,))

            def stale_write() -> None:
                try:
                    with fencing.fenced(second, resource, older) as c:
                        c.execute(f"INSERT INTO {table} VALUES (2, %s)", (older,))
                    outcome.append("written")
                except fencing.StaleTokenError as e:
                    outcome.append(e)

            t = threading.Thread(target=stale_write)
            t.start()
            with psycopg.connect(uri, autocommit=True) as watch:  # wait until it blocks on our row lock
                for _ in range(int(WAIT / 0.02)):
                    state = watch.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone()
                    if state and state[0] == "Lock":
                        break
                    threading.Event().wait(0.02)
                else:
                    pytest.fail("the stale writer never waited for the fence row")
        t.join(WAIT)
    assert len(outcome) == 1 and isinstance(outcome[0], fencing.StaleTokenError)
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
