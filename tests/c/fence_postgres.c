/* The C binding's fencing kit, the SQL snippet of docs/fencing.md, run through libpq against a
 * real PostgreSQL: two leaders of one election on the file store, one after the other, write
 * records under their terms' tokens; the first leader's late write, after its successor wrote,
 * is rejected by the fence statement and changes nothing.
 *
 * Usage: fence_postgres <postgresql URI>   (e.g. "$ELECT_POSTGRES_URI") */
#define _GNU_SOURCE
#include "check.h"

#include <libpq-fe.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The fence table and statement of docs/fencing.md ("SQL: the fence table"), verbatim. */
static const char *const CREATE_FENCE =
    "CREATE TABLE IF NOT EXISTS elect_fence (resource text PRIMARY KEY, token bigint NOT NULL)";
static const char *const FENCE =
    "INSERT INTO elect_fence (resource, token) VALUES ($1, $2)\n"
    "    ON CONFLICT (resource) DO UPDATE SET token = EXCLUDED.token\n"
    "    WHERE elect_fence.token <= EXCLUDED.token\n"
    "    RETURNING token";

static PGconn *db;

/* CREATE TABLE IF NOT EXISTS notices are expected: not printed. */
static void no_notices(void *arg, const char *message) {
    (void)arg;
    (void)message;
}
static char table[64];

/* Runs `sql` with text parameters; the result must have status `want`. */
static PGresult *run(const char *sql, int n, const char *const *params, ExecStatusType want) {
    PGresult *r = PQexecParams(db, sql, n, NULL, params, NULL, NULL, 0);
    CHECK(PQresultStatus(r) == want, "%s: %s", sql, PQresultErrorMessage(r));
    return r;
}

static void exec_ok(const char *sql) { PQclear(run(sql, 0, NULL, PGRES_COMMAND_OK)); }

/* The guarded write of the docs, in one transaction: the fence statement, then the user's
 * statement (record `id` done under `token`). Returns 1 if written, 0 if the token was stale
 * (rolled back). */
static int fenced_done(const char *resource, uint64_t token, int id) {
    char tok[24], rid[16], update[256];
    snprintf(tok, sizeof tok, "%" PRIu64, token);
    snprintf(rid, sizeof rid, "%d", id);
    exec_ok("BEGIN");
    const char *fence_params[] = {resource, tok};
    PGresult *r = run(FENCE, 2, fence_params, PGRES_TUPLES_OK);
    int fresh = PQntuples(r) == 1;
    PQclear(r);
    if (!fresh) {
        exec_ok("ROLLBACK");
        return 0;
    }
    snprintf(update, sizeof update, "UPDATE %s SET state = 'done', token = $2 WHERE id = $1", table);
    const char *params[] = {rid, tok};
    PQclear(run(update, 2, params, PGRES_COMMAND_OK));
    exec_ok("COMMIT");
    return 1;
}

/* One row of the records table as "state@token". */
static void record(int id, char *out, size_t size) {
    char sql[256], rid[16];
    snprintf(sql, sizeof sql, "SELECT state || '@' || coalesce(token::text, '-') FROM %s WHERE id = $1", table);
    snprintf(rid, sizeof rid, "%d", id);
    const char *params[] = {rid};
    PGresult *r = run(sql, 1, params, PGRES_TUPLES_OK);
    CHECK(PQntuples(r) == 1, "record %d missing", id);
    snprintf(out, size, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
}

static void check_record(int id, const char *want) {
    char got[64];
    record(id, got, sizeof got);
    CHECK(strcmp(got, want) == 0, "record %d is %s, want %s", id, got, want);
}

static elect_election *candidate(const char *id) {
    char uri[512];
    snprintf(uri, sizeof uri, "file://%s?ttl=3s&renew=300ms&id=%s", dir, id);
    elect_election *e = NULL;
    CHECK_OK(elect_open(uri, "fenced-records", NULL, NULL, &e));
    CHECK_OK(elect_start(e));
    return e;
}

int main(int argc, char **argv) {
    CHECK(argc == 2, "usage: %s <postgresql URI>", argv[0]);
    scratch_open("elect-c-fence");
    db = PQconnectdb(argv[1]);
    CHECK(PQstatus(db) == CONNECTION_OK, "connecting to PostgreSQL: %s", PQerrorMessage(db));
    PQsetNoticeProcessor(db, no_notices, NULL);
    snprintf(table, sizeof table, "records_c_%d", (int)getpid());
    char sql[256];
    exec_ok(CREATE_FENCE);
    /* The file store's tokens start again at 1 in a fresh directory: a fresh fence too. */
    const char *resource[] = {table};
    PQclear(run("DELETE FROM elect_fence WHERE resource = $1", 1, resource, PGRES_COMMAND_OK));
    snprintf(sql, sizeof sql, "CREATE TABLE %s (id int PRIMARY KEY, state text NOT NULL, token bigint)", table);
    exec_ok(sql);
    snprintf(sql, sizeof sql, "INSERT INTO %s (id, state) VALUES (1, 'failed'), (2, 'failed'), (3, 'failed')", table);
    exec_ok(sql);

    /* The first leader's term, then its successor's after it resigns. */
    elect_election *first = candidate("first");
    CHECK_OK(elect_wait_leader(first, WAIT_MS));
    elect_term *old_term = NULL;
    CHECK_OK(elect_term_begin(first, 0, &old_term));
    elect_election *second = candidate("second");
    CHECK(fenced_done(table, elect_term_token(old_term), 1), "the leader's write was rejected");
    CHECK_OK(elect_resign(first));
    CHECK_OK(elect_wait_leader(second, WAIT_MS));
    elect_term *new_term = NULL;
    CHECK_OK(elect_term_begin(second, 0, &new_term));
    uint64_t old_token = elect_term_token(old_term), new_token = elect_term_token(new_term);
    CHECK(new_token > old_token, "tokens %" PRIu64 " then %" PRIu64, old_token, new_token);
    CHECK(elect_term_cancelled(old_term), "the first term ended at resign");
    CHECK(fenced_done(table, new_token, 2), "the successor's write was rejected");

    /* The first leader's late write, as a paused leader would make it: rejected, nothing written. */
    CHECK(!fenced_done(table, old_token, 3), "the stale token %" PRIu64 " wrote after %" PRIu64,
          old_token, new_token);
    char want[64];
    check_record(3, "failed@-");
    CHECK(fenced_done(table, new_token, 3), "the same term writes again");
    snprintf(want, sizeof want, "done@%" PRIu64, old_token);
    check_record(1, want);
    snprintf(want, sizeof want, "done@%" PRIu64, new_token);
    check_record(2, want);
    check_record(3, want);
    printf("fencing token %" PRIu64 " rejected after %" PRIu64 " wrote; the successor's writes stand\n",
           old_token, new_token);

    elect_term_free(old_term);
    elect_term_free(new_term);
    elect_close(first);
    elect_close(second);
    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    exec_ok(sql);
    PQclear(run("DELETE FROM elect_fence WHERE resource = $1", 1, resource, PGRES_COMMAND_OK));
    PQfinish(db);
    scratch_close("fencing tests");
    return 0;
}
