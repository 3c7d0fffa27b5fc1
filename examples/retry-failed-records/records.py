"""The records table the example retries, in SQLite (a file) or PostgreSQL (a URI).

``records`` holds the work: rows in state ``failed`` wait for a retry. ``deliveries`` is the
side effect of a retry, one row per time a record was processed: a record delivered twice is a
duplicate. ``elect_fence`` is the fence of the SQL guard (docs/fencing.md).
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from elect import fencing


class Records:
    """A connection to the records database; ``db`` is a PostgreSQL URI or a SQLite file path."""

    def __init__(self, db: str) -> None:
        if db.startswith(("postgres://", "postgresql://")):
            import psycopg

            self.dialect = fencing.POSTGRESQL
            self.conn: Any = psycopg.connect(db)
            self.p = "%s"
        else:
            import sqlite3

            self.dialect = fencing.SQLITE
            # Several processes write the file: wait for the write lock instead of failing.
            self.conn = sqlite3.connect(db, timeout=30.0)
            self.p = "?"

    def close(self) -> None:
        self.conn.close()

    def create(self, count: int) -> None:
        """(Re)creates the tables with ``count`` records in state ``failed``."""
        cur = self.conn.cursor()
        for table in ("deliveries", "records", "elect_fence"):
            cur.execute(f"DROP TABLE IF EXISTS {table}")
        cur.execute(fencing.create_table_sql(self.dialect))
        cur.execute("CREATE TABLE records (id integer PRIMARY KEY, state text NOT NULL)")
        cur.execute("CREATE TABLE deliveries (record_id integer NOT NULL, worker text NOT NULL, token bigint NOT NULL)")
        for i in range(1, count + 1):
            cur.execute(f"INSERT INTO records (id, state) VALUES ({self.p}, 'failed')", (i,))
        self.conn.commit()

    def failed(self) -> List[int]:
        """The ids of the records waiting for a retry."""
        cur = self.conn.cursor()
        cur.execute("SELECT id FROM records WHERE state = 'failed' ORDER BY id")
        ids = [int(r[0]) for r in cur.fetchall()]
        self.conn.commit()  # end the read's transaction: the next poll sees new commits
        return ids

    def retry(self, record: int, worker: str, token: int) -> None:
        """Processes one record under ``token``: delivers it and marks it done, in one fenced
        transaction. Raises :class:`elect.fencing.StaleTokenError` (nothing written) for a
        token older than the last one that wrote."""
        with fencing.fenced(self.conn, "records", token, dialect=self.dialect) as cur:
            cur.execute(
                f"INSERT INTO deliveries (record_id, worker, token) VALUES ({self.p}, {self.p}, {self.p})",
                (record, worker, token),
            )
            cur.execute(f"UPDATE records SET state = 'done' WHERE id = {self.p}", (record,))

    def retry_unfenced(self, record: int, worker: str, token: int) -> None:
        """:meth:`retry` without the fence, to show what the fence prevents (``--no-fence``)."""
        cur = self.conn.cursor()
        cur.execute(
            f"INSERT INTO deliveries (record_id, worker, token) VALUES ({self.p}, {self.p}, {self.p})",
            (record, worker, token),
        )
        cur.execute(f"UPDATE records SET state = 'done' WHERE id = {self.p}", (record,))
        self.conn.commit()

    def report(self) -> Dict[str, Any]:
        """What happened: deliveries per (worker, token), duplicates, records left."""
        cur = self.conn.cursor()
        cur.execute("SELECT worker, token, count(*) FROM deliveries GROUP BY worker, token ORDER BY token, worker")
        by: List[Tuple[str, int, int]] = [(str(w), int(t), int(n)) for w, t, n in cur.fetchall()]
        cur.execute("SELECT count(*) FROM (SELECT record_id FROM deliveries GROUP BY record_id HAVING count(*) > 1) d")
        duplicates = int(cur.fetchone()[0])
        cur.execute("SELECT count(*) FROM records WHERE state = 'failed'")
        left = int(cur.fetchone()[0])
        cur.execute("SELECT count(DISTINCT record_id) FROM deliveries")
        processed = int(cur.fetchone()[0])
        self.conn.commit()
        return {"by": by, "duplicates": duplicates, "left": left, "processed": processed}
