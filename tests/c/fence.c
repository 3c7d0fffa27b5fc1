/* The C binding's fencing kit against real servers, with the tokens of two leaders of one
 * election on the file store (the first resigns, the second takes over):
 * - PostgreSQL: the fence statement of docs/fencing.md, through libpq, in the write's
 *   transaction;
 * - Redis: the script of fencing/redis-set.lua (read from the file, its one source), by EVAL
 *   through hiredis.
 * The first leader's late write, after its successor wrote, is rejected and changes nothing.
 *
 * Usage: fence <postgresql URI> <redis URI> <path of fencing/redis-set.lua>
 *        ("-" for a URI skips that store) */
#define _GNU_SOURCE
#include "check.h"

#include <hiredis.h>
#include <inttypes.h>
#include <libpq-fe.h>
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

/* Records 1-3 failed; the old term does record 1, the new one record 2, the old term's late
 * write of record 3 is rejected, and the new term does it. */
static void postgres_guard(const char *uri, uint64_t old_token, uint64_t new_token) {
    db = PQconnectdb(uri);
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

    CHECK(fenced_done(table, old_token, 1), "the first leader's write was rejected");
    CHECK(fenced_done(table, new_token, 2), "the successor's write was rejected");
    CHECK(!fenced_done(table, old_token, 3), "PostgreSQL: the stale token %" PRIu64 " wrote after %" PRIu64,
          old_token, new_token);
    check_record(3, "failed@-");
    CHECK(fenced_done(table, new_token, 3), "the same term writes again");
    char want[64];
    snprintf(want, sizeof want, "done@%" PRIu64, old_token);
    check_record(1, want);
    snprintf(want, sizeof want, "done@%" PRIu64, new_token);
    check_record(2, want);
    check_record(3, want);
    printf("PostgreSQL: fencing token %" PRIu64 " rejected after %" PRIu64 " wrote\n", old_token, new_token);

    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    exec_ok(sql);
    PQclear(run("DELETE FROM elect_fence WHERE resource = $1", 1, resource, PGRES_COMMAND_OK));
    PQfinish(db);
}

/* The whole (small) file at `path`, NUL-terminated, in a static buffer. */
static const char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL, "cannot open %s", path);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    CHECK(n > 0 && n < sizeof buf - 1 && !ferror(f), "cannot read %s", path);
    fclose(f);
    buf[n] = 0;
    return buf;
}

/* The fenced SET by EVAL: 1 if written, 0 if stale (then `*highest` is the fence's token). */
static int redis_set(redisContext *c, const char *script, const char *fence, uint64_t token,
                     const char *key, const char *value, long long *highest) {
    char tok[24];
    snprintf(tok, sizeof tok, "%" PRIu64, token);
    redisReply *r = redisCommand(c, "EVAL %s 2 %s %s %s %s", script, fence, key, tok, value);
    CHECK(r != NULL, "EVAL: %s", c->errstr);
    CHECK(r->type == REDIS_REPLY_ARRAY && r->elements == 2 && r->element[0]->type == REDIS_REPLY_INTEGER &&
              r->element[1]->type == REDIS_REPLY_INTEGER,
          "EVAL replied type %d: %s", r->type, r->type == REDIS_REPLY_ERROR ? r->str : "");
    int written = r->element[0]->integer == 1;
    *highest = r->element[1]->integer;
    freeReplyObject(r);
    return written;
}

/* GET key, or "(nil)". */
static void check_value(redisContext *c, const char *key, const char *want) {
    redisReply *r = redisCommand(c, "GET %s", key);
    CHECK(r != NULL, "GET: %s", c->errstr);
    const char *got = r->type == REDIS_REPLY_STRING ? r->str : "(nil)";
    CHECK(strcmp(got, want) == 0, "%s is %s, want %s", key, got, want);
    freeReplyObject(r);
}

static void redis_guard(const char *uri, const char *script_path, uint64_t old_token, uint64_t new_token) {
    char host[256];
    int port = 0;
    CHECK(sscanf(uri, "redis://%255[^:/]:%d", host, &port) == 2, "a redis://host:port URI: %s", uri);
    redisContext *c = redisConnect(host, port);
    CHECK(c != NULL && !c->err, "connecting to Redis: %s", c ? c->errstr : "out of memory");
    const char *script = read_file(script_path);
    char fence[64], key[64];
    snprintf(fence, sizeof fence, "{c-fence-%d}:fence", (int)getpid());
    snprintf(key, sizeof key, "{c-fence-%d}:data", (int)getpid());
    freeReplyObject(redisCommand(c, "DEL %s %s", fence, key));

    long long highest = 0;
    CHECK(redis_set(c, script, fence, old_token, key, "a", &highest), "the first leader's write was rejected");
    CHECK(redis_set(c, script, fence, new_token, key, "b", &highest), "the successor's write was rejected");
    CHECK(!redis_set(c, script, fence, old_token, key, "stale", &highest),
          "Redis: the stale token %" PRIu64 " wrote after %" PRIu64, old_token, new_token);
    CHECK(highest == (long long)new_token, "highest %lld, want %" PRIu64, highest, new_token);
    check_value(c, key, "b");
    CHECK(redis_set(c, script, fence, new_token, key, "c", &highest), "the same term writes again");
    check_value(c, key, "c");
    printf("Redis: fencing token %" PRIu64 " rejected after %" PRIu64 " wrote\n", old_token, new_token);

    freeReplyObject(redisCommand(c, "DEL %s %s", fence, key));
    redisFree(c);
}

int main(int argc, char **argv) {
    CHECK(argc == 4, "usage: %s <postgresql URI|-> <redis URI|-> <redis-set.lua>", argv[0]);
    scratch_open("elect-c-fence");

    /* The first leader's term, then its successor's after it resigns. */
    elect_election *first = candidate("first");
    CHECK_OK(elect_wait_leader(first, WAIT_MS));
    elect_term *old_term = NULL;
    CHECK_OK(elect_term_begin(first, 0, &old_term));
    elect_election *second = candidate("second");
    CHECK_OK(elect_resign(first));
    CHECK_OK(elect_wait_leader(second, WAIT_MS));
    elect_term *new_term = NULL;
    CHECK_OK(elect_term_begin(second, 0, &new_term));
    uint64_t old_token = elect_term_token(old_term), new_token = elect_term_token(new_term);
    CHECK(new_token > old_token, "tokens %" PRIu64 " then %" PRIu64, old_token, new_token);
    CHECK(elect_term_cancelled(old_term), "the first term ended at resign");

    if (strcmp(argv[1], "-") != 0) {
        postgres_guard(argv[1], old_token, new_token);
    }
    if (strcmp(argv[2], "-") != 0) {
        redis_guard(argv[2], argv[3], old_token, new_token);
    }

    elect_term_free(old_term);
    elect_term_free(new_term);
    elect_close(first);
    elect_close(second);
    scratch_close("fencing tests");
    return 0;
}
