//! The statements, each a single round trip. Times are computed by the server (`now()`), never
//! by the client: the client sends only durations (the ttl, in milliseconds) and measures its
//! own deadline from when it sent the statement.

use super::layout::Names;
use crate::backend::limits::{MAX_FIELD, MAX_MEMBERS};

/// `now() + ttl`, where `$1` is the ttl in milliseconds.
const EXPIRY: &str = "now() + $1::bigint * interval '1 millisecond'";

/// The hold-off and stickiness of row alias `t`, as intervals.
const HOLDOFF: &str = "t.holdoff_ms * interval '1 millisecond'";
const STICKY: &str = "t.sticky_ms * interval '1 millisecond'";

/// Milliseconds from now until `expires_at` of row alias `t`, 0 when past (or released: the
/// CASE keeps `-infinity` out of the subtraction).
const REMAINING: &str = "CASE WHEN t.expires_at > now() \
     THEN extract(epoch FROM t.expires_at - now()) * 1000 ELSE 0 END::float8";

/// Milliseconds from now until the timestamp expression `at`, 0 when past.
fn remaining(at: &str) -> String {
    format!("CASE WHEN {at} > now() THEN extract(epoch FROM {at} - now()) * 1000 ELSE 0 END")
}

pub(super) struct Statements {
    /// `$1 ttl_ms, $2 election, $3 holder, $4 value, $5 channel, $6 owner, $7 holdoff_ms,
    /// $8 sticky_ms` -> `(won bool, term bigint, ms float8)`: on a win the granted ttl,
    /// otherwise how long until the lease may be ours at the earliest. One statement: take the
    /// lease if it is already ours (same `owner`: this candidacy, not merely the same `id`), or
    /// expired and the row's succession allows us (a hand-off names nobody else or lapsed; a
    /// leader lost without a release, its lease run out at `expires_at`, holds everyone off
    /// until `expires_at + holdoff_ms` and everyone but its `holder` until
    /// `expires_at + sticky_ms`), bumping the term and recording our own hold-off and
    /// stickiness; tell listeners; else report how long to wait.
    pub acquire: String,
    /// `$1 election, $2 holder, $3 term, $4 owner, $5 successor, $6 ttl_ms, $7 channel`
    /// -> `(member bool, handed bool)`: if the caller's lease of `term` is live and the successor
    /// a live member, releases it reserved for the successor alone for a ttl, and tells
    /// listeners.
    pub hand_over: String,
    /// `$1 ttl_ms, $2 elections[], $3 holders[], $4 terms[], $5 m_elections[], $6 m_ids[],
    /// $7 m_values[], $8 watched[], $9 owners[]` -> rows `(kind, election, holder, value, term,
    /// ms)`: kind `renewed` for each lease still ours (ms = granted ttl), kind `leader` for each
    /// watched election that has a live leader, kind `members` (term = their number) for each
    /// watched election with live members, and one row of kind `now` whose ms is the
    /// server's clock (`now()`, milliseconds since the epoch). The one statement per renewal
    /// period that keeps every lease, membership and observer of this connection alive.
    pub round: String,
    /// `$1 election, $2 holder, $3 term (NULL: any), $4 channel, $5 owner` -> one row if
    /// released (and notified).
    pub release: String,
    /// `$1 election, $2 holder, $3 term, $4 owner, $5 value, $6 channel` -> one row if the
    /// caller's lease of `term` is live and now carries `value` (its member row too; listeners
    /// told), no row (and nothing written) otherwise.
    pub proclaim: String,
    /// `$1 election` -> `(holder, value, term, ms)` of the live leader, if any.
    pub leader: String,
    /// `$1 ttl_ms, $2 election, $3 id, $4 value, $5 channel`: registers a candidate (and drops
    /// members of the election that stopped heartbeating long ago), and tells listeners.
    pub join: String,
    /// `$1 election, $2 id, $3 channel`: removes a candidate, and tells listeners.
    pub leave: String,
    /// `$1 election` -> `(id, value)` of live members, by id.
    pub members: String,
}

impl Statements {
    pub fn new(n: &Names) -> Statements {
        let (leases, members) = (&n.leases, &n.members);
        // Holder and value of row alias `t` as read back, cut by the server one character past
        // the bound, so that an oversized row is detected (`limits`) without being read whole.
        let holder = format!("left(t.holder, {})", MAX_FIELD + 1);
        let value = format!("left(t.value, {})", MAX_FIELD + 1);
        Statements {
            acquire: format!(
                "WITH up AS (
                    INSERT INTO {leases} AS t (election, holder, value, term, expires_at, owner,
                                              holdoff_ms, sticky_ms)
                    VALUES ($2, $3, $4, 1, {EXPIRY}, $6, $7, $8)
                    ON CONFLICT (election) DO UPDATE
                        SET holder = EXCLUDED.holder, value = EXCLUDED.value,
                            term = t.term + 1, expires_at = EXCLUDED.expires_at,
                            owner = EXCLUDED.owner, next_id = '', next_until = '-infinity',
                            holdoff_ms = EXCLUDED.holdoff_ms, sticky_ms = EXCLUDED.sticky_ms
                        WHERE t.owner = EXCLUDED.owner OR (t.expires_at < now()
                            AND (t.next_id = '' OR t.next_id = EXCLUDED.holder
                                OR t.next_until < now())
                            AND (t.expires_at = '-infinity'
                                OR (t.expires_at + {HOLDOFF} < now()
                                    AND (t.holder = EXCLUDED.holder
                                        OR t.expires_at + {STICKY} < now()))))
                    RETURNING t.term, {REMAINING} AS ms)
                SELECT true, up.term, up.ms FROM up, LATERAL (SELECT pg_notify($5, 'elected')) AS n
                UNION ALL
                SELECT false, t.term, GREATEST({REMAINING},
                    CASE WHEN t.next_id NOT IN ('', $3) THEN {reserved} ELSE 0 END,
                    CASE WHEN t.expires_at > '-infinity' THEN {held_off} ELSE 0 END,
                    CASE WHEN t.expires_at > '-infinity' AND t.holder <> $3 THEN {stuck} ELSE 0 END
                    )::float8 FROM {leases} AS t
                    WHERE t.election = $2 AND NOT EXISTS (SELECT FROM up)",
                reserved = remaining("t.next_until"),
                held_off = remaining(&format!("t.expires_at + {HOLDOFF}")),
                stuck = remaining(&format!("t.expires_at + {STICKY}")),
            ),
            hand_over: format!(
                "WITH mem AS (
                    SELECT EXISTS (SELECT FROM {members}
                        WHERE election = $1 AND id = $5 AND expires_at > now()) AS ok),
                h AS (
                    UPDATE {leases} SET expires_at = '-infinity', next_id = $5,
                        next_until = now() + $6::bigint * interval '1 millisecond'
                    WHERE election = $1 AND holder = $2 AND term = $3 AND owner = $4
                        AND expires_at > now() AND (SELECT ok FROM mem)
                    RETURNING 1),
                n AS (SELECT pg_notify($7, 'released') FROM h)
                SELECT (SELECT ok FROM mem), EXISTS (SELECT FROM h), (SELECT count(*) FROM n)"
            ),
            round: format!(
                "WITH m AS (
                    INSERT INTO {members} (election, id, value, expires_at)
                    SELECT e, i, v, {EXPIRY} FROM unnest($5::text[], $6::text[], $7::text[]) AS k(e, i, v)
                    ON CONFLICT (election, id) DO UPDATE
                        SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at),
                l AS (
                    UPDATE {leases} AS t SET expires_at = {EXPIRY}
                    FROM unnest($2::text[], $3::text[], $4::bigint[], $9::text[]) AS h(e, i, term, o)
                    WHERE t.election = h.e AND t.holder = h.i AND t.term = h.term
                        AND t.owner = h.o AND t.expires_at > now()
                    RETURNING t.election, t.holder, t.value, t.term, {REMAINING} AS ms)
                SELECT 'renewed', election, holder, value, term, ms FROM l
                UNION ALL
                SELECT 'leader', t.election, {holder}, {value}, t.term, {REMAINING}
                    FROM {leases} AS t WHERE t.election = ANY($8::text[]) AND t.expires_at > now()
                UNION ALL
                SELECT 'members', k.election, '', '', count(*), 0::float8
                    FROM {members} AS k WHERE k.election = ANY($8::text[]) AND k.expires_at > now()
                    GROUP BY k.election
                UNION ALL
                SELECT 'now', '', '', '', 0::bigint, (extract(epoch FROM now()) * 1000)::float8"
            ),
            release: format!(
                "WITH r AS (
                    UPDATE {leases} SET expires_at = '-infinity'
                    WHERE election = $1 AND holder = $2 AND ($3::bigint IS NULL OR term = $3)
                        AND owner = $5 AND expires_at > now()
                    RETURNING 1)
                SELECT 1 FROM r, LATERAL (SELECT pg_notify($4, 'released')) AS n"
            ),
            proclaim: format!(
                "WITH p AS (
                    UPDATE {leases} SET value = $5
                    WHERE election = $1 AND holder = $2 AND term = $3 AND owner = $4
                        AND expires_at > now()
                    RETURNING 1),
                m AS (
                    UPDATE {members} SET value = $5
                    WHERE election = $1 AND id = $2 AND EXISTS (SELECT FROM p))
                SELECT 1 FROM p, LATERAL (SELECT pg_notify($6, 'proclaimed')) AS n"
            ),
            leader: format!(
                "SELECT {holder}, {value}, t.term, {REMAINING} FROM {leases} AS t
                    WHERE t.election = $1 AND t.expires_at > now()"
            ),
            join: format!(
                "WITH gone AS (
                    DELETE FROM {members}
                    WHERE election = $2 AND expires_at < now() - interval '1 hour'),
                up AS (
                    INSERT INTO {members} (election, id, value, expires_at)
                    VALUES ($2, $3, $4, {EXPIRY})
                    ON CONFLICT (election, id) DO UPDATE
                        SET value = EXCLUDED.value, expires_at = EXCLUDED.expires_at
                    RETURNING 1)
                SELECT pg_notify($5, 'joined') FROM up"
            ),
            leave: format!(
                "WITH gone AS (DELETE FROM {members} WHERE election = $1 AND id = $2 RETURNING 1)
                SELECT pg_notify($3, 'left') FROM gone"
            ),
            members: format!(
                "SELECT left(id, {cut}), left(value, {cut}) FROM {members}
                    WHERE election = $1 AND expires_at > now() ORDER BY id LIMIT {limit}",
                cut = MAX_FIELD + 1,
                limit = MAX_MEMBERS + 1
            ),
        }
    }
}
