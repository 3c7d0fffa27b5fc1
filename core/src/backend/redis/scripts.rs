//! The Lua scripts. Each runs atomically on the server, so "check the holder, then act" cannot
//! interleave with another candidate's request. Times come from the server's `TIME`, never from
//! the clients' clocks.

use once_cell::sync::Lazy;
use redis::Script;

/// Takes the lock if it is free and the restart guard allows it; refreshes the caller's
/// membership either way.
///
/// KEYS: lock, leader, term, max ttl, members, values, next. ARGV: token, ttl ms, id, value,
/// channel, the longest ttl (ms) this process knows to be in use under the prefix, holdoff ms,
/// sticky ms.
/// Returns `{1, term, hold}` when granted (or already held with this token: an earlier attempt
/// whose answer was lost; the lock is then extended, as the caller counts its lease from now),
/// `{0, wait ms, hold}` when not: how long until the lock can be free at the earliest, and
/// `{-1, pttl, hold}` when the lock key has no expiry (not elect's: nothing will free it).
/// `hold` is the longest ttl known under the prefix, for the caller to remember.
///
/// Fencing token: `max(last term + 1, server TIME in microseconds)`. The `+ 1` keeps tokens
/// strictly increasing while the data lasts; the clock keeps them increasing when it does not
/// (a restart without persistence or from an older snapshot, a flush): every new token is at
/// least the server's time in microseconds, which exceeds every token granted before as long as
/// the server's clock does not step back and no election grants more than one leadership per
/// microsecond.
///
/// Restart guard: a server that restarted may have lost the lock of a leader that still
/// believes it leads (no persistence, or a snapshot older than the lock), until that leader's
/// deadline, at most its ttl after the crash. The server's start time comes from `INFO server`
/// (`uptime_in_seconds`, which no snapshot can bring back), rounded up to the next second; no
/// lock is granted until the longest ttl in use (`hold`) after it: the delayed restart that
/// Redis's own distributed-lock documentation prescribes, enforced by the script.
///
/// Who may be granted next (the `next` hash): a `handoff` to another id waits until it lapses
/// (its `PX ttl`); a `lead` record found while the lock is free means its leader was lost
/// without a release: it becomes `lost` at the server's time now, kept for the longer of its
/// hold-off and stickiness; while `lost`, nobody is granted before `at + holdoff`, and nobody
/// but its `id` before `at + sticky`. A grant replaces the record: a `lead` one when the new
/// leader asks for a hold-off or stickiness, none otherwise.
pub static ACQUIRE: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now_us = tonumber(t[1]) * 1000000 + tonumber(t[2])
local now_ms = math.floor(now_us / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[5], now_ms + ttl, ARGV[3])
redis.call('HSET', KEYS[6], ARGV[3], ARGV[4])
redis.call('PEXPIRE', KEYS[5], 2 * ttl)
redis.call('PEXPIRE', KEYS[6], 2 * ttl)
local stored = tonumber(redis.call('GET', KEYS[4])) or 0
local hold = math.max(ttl, tonumber(ARGV[6]), stored)
if hold > stored then
  redis.call('SET', KEYS[4], string.format('%d', hold))
end
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  return {1, tonumber(redis.call('HGET', KEYS[2], 'term')), hold}
end
if holder then
  local left = redis.call('PTTL', KEYS[1])
  if left < 0 then
    return {-1, left, hold}
  end
  return {0, left, hold}
end
local nx = redis.call('HMGET', KEYS[7], 'kind', 'id', 'holdoff', 'sticky', 'at')
if nx[1] == 'lead' then
  local keep = math.max(tonumber(nx[3]) or 0, tonumber(nx[4]) or 0)
  if keep > 0 then
    redis.call('HSET', KEYS[7], 'kind', 'lost', 'at', string.format('%d', now_ms))
    redis.call('PEXPIRE', KEYS[7], keep)
    nx[1], nx[5] = 'lost', string.format('%d', now_ms)
  else
    redis.call('DEL', KEYS[7])
  end
end
if nx[1] == 'handoff' and nx[2] ~= ARGV[3] then
  return {0, math.max(redis.call('PTTL', KEYS[7]), 1), hold}
end
if nx[1] == 'lost' then
  local at = tonumber(nx[5]) or 0
  local open_at = at + (tonumber(nx[3]) or 0)
  if nx[2] ~= ARGV[3] then
    open_at = math.max(open_at, at + (tonumber(nx[4]) or 0))
  end
  if now_ms < open_at then
    return {0, open_at - now_ms, hold}
  end
end
local uptime = tonumber(string.match(redis.call('INFO', 'server'), 'uptime_in_seconds:(%d+)'))
if not uptime then
  return redis.error_reply('elect: INFO server reports no uptime_in_seconds')
end
local started_ms = (tonumber(t[1]) - uptime + 1) * 1000
if now_ms < started_ms + hold then
  return {0, started_ms + hold - now_ms, hold}
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ttl) then
  return {0, redis.call('PTTL', KEYS[1]), hold}
end
local last = tonumber(redis.call('GET', KEYS[3])) or 0
local term = math.max(last + 1, now_us)
local term_s = string.format('%d', term)
redis.call('SET', KEYS[3], term_s)
redis.call('HSET', KEYS[2], 'id', ARGV[3], 'value', ARGV[4], 'term', term_s, 'token', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('DEL', KEYS[7])
if tonumber(ARGV[7]) > 0 or tonumber(ARGV[8]) > 0 then
  redis.call('HSET', KEYS[7], 'kind', 'lead', 'id', ARGV[3], 'holdoff', ARGV[7], 'sticky', ARGV[8])
end
redis.call('PUBLISH', ARGV[5], 'elected')
return {1, term, hold}
"#,
    )
});

/// Renews any number of leaderships and member heartbeats, and reads the term of any number of
/// watched elections, in one request: the keep-alive of a whole process costs one command per
/// interval, however many elections it runs or follows. It also raises the prefix's longest
/// ttl to the one this process knows, and reads it back (see [`ACQUIRE`]'s restart guard).
///
/// KEYS: max ttl, `n` pairs (lock, leader), `m` pairs (members, values), then `w` pairs
/// (leader, members) of watched elections.
/// ARGV: ttl ms, n, m, the longest ttl this process knows, the `n` tokens, then `m` pairs
/// (id, value).
/// Returns `n` verdicts (1: still ours and extended, 0: not), then for each watched election
/// its term (0: no leader) and its number of unexpired members, then the longest ttl under the
/// prefix and the server's time in milliseconds. (A member whose heartbeat expired announces
/// nothing; the count is how its followers notice, without a read per election.)
pub static KEEPALIVE: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local n, m = tonumber(ARGV[2]), tonumber(ARGV[3])
local stored = tonumber(redis.call('GET', KEYS[1])) or 0
local hold = math.max(ttl, tonumber(ARGV[4]), stored)
if hold > stored then
  redis.call('SET', KEYS[1], string.format('%d', hold))
end
local out = {}
for i = 1, n do
  if redis.call('GET', KEYS[2 * i]) == ARGV[4 + i] then
    redis.call('PEXPIRE', KEYS[2 * i], ttl)
    redis.call('PEXPIRE', KEYS[2 * i + 1], ttl)
    out[i] = 1
  else
    out[i] = 0
  end
end
for j = 1, m do
  local members, values = KEYS[2 * n + 2 * j], KEYS[2 * n + 2 * j + 1]
  local id, value = ARGV[4 + n + 2 * j - 1], ARGV[4 + n + 2 * j]
  redis.call('ZADD', members, now_ms + ttl, id)
  redis.call('HSET', values, id, value)
  redis.call('PEXPIRE', members, 2 * ttl)
  redis.call('PEXPIRE', values, 2 * ttl)
end
for k = 2 * (n + m) + 2, #KEYS, 2 do
  out[#out + 1] = tonumber(redis.call('HGET', KEYS[k], 'term')) or 0
  out[#out + 1] = redis.call('ZCOUNT', KEYS[k + 1], '(' .. now_ms, '+inf')
end
out[#out + 1] = hold
out[#out + 1] = now_ms
return out
"#,
    )
});

/// Gives the lock up if the caller holds it, announcing it so that waiters try at once (and
/// drops the caller's `next` record: a release is no loss); with ARGV[3] (an id) also removes
/// that member (announced as `left`).
///
/// KEYS: lock, leader, members, values, next. ARGV: token, channel, [id]. Returns 1 if it
/// released.
pub static RELEASE: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2], KEYS[5])
  redis.call('PUBLISH', ARGV[2], 'released')
  released = 1
end
if ARGV[3] then
  if redis.call('ZREM', KEYS[3], ARGV[3]) == 1 then
    redis.call('PUBLISH', ARGV[2], 'left')
  end
  redis.call('HDEL', KEYS[4], ARGV[3])
end
return released
"#,
    )
});

/// The hand-off: if the caller holds the lock and ARGV[3] is a live member, gives the lock up
/// and leaves a `handoff` record naming that member for `PX ttl`, so that only it may be
/// granted the lock until then (see [`ACQUIRE`]), and announces the release.
///
/// KEYS: lock, leader, next, members. ARGV: token, channel, successor id, ttl ms.
/// Returns 1 when handed over, 0 when the lock is not the caller's, -1 when the successor is no
/// live member (nothing changed in both cases).
pub static HAND_OVER: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if (tonumber(redis.call('ZSCORE', KEYS[4], ARGV[3])) or 0) <= now_ms then
  return -1
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('HSET', KEYS[3], 'kind', 'handoff', 'id', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
redis.call('PUBLISH', ARGV[2], 'released')
return 1
"#,
    )
});

/// Publishes a new value for the caller's leadership, if it still holds the lock, and announces
/// it so that watchers read the leader again.
///
/// KEYS: lock, leader, values. ARGV: token, id, value, channel. Returns 1 if written, 0 if the
/// lock is not the caller's (nothing written).
pub static PROCLAIM: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('HSET', KEYS[2], 'value', ARGV[3])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
redis.call('PUBLISH', ARGV[4], 'proclaimed')
return 1
"#,
    )
});

/// Publishes ARGV[2] on channel ARGV[1] (a membership change, for the followers).
pub static ANNOUNCE: Lazy<Script> =
    Lazy::new(|| Script::new("return redis.call('PUBLISH', ARGV[1], ARGV[2])"));

/// The current leader. KEYS: lock, leader. ARGV: the longest id or value to return whole
/// (longer ones are cut there, so that `limits` refuses them without the client reading them
/// whole). Returns `{}` or `{id, value, term}`.
pub static LEADER: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
local holder = redis.call('GET', KEYS[1])
if not holder then return {} end
local h = redis.call('HMGET', KEYS[2], 'id', 'value', 'term', 'token')
if h[4] ~= holder then return {} end
local cut = tonumber(ARGV[1])
return {string.sub(h[1] or '', 1, cut), string.sub(h[2] or '', 1, cut), h[3]}
"#,
    )
});

/// The live members, expired heartbeats trimmed. KEYS: members, values. ARGV: the longest id
/// or value to return whole, the most members to return (both one past `limits`' bounds, so
/// that the client refuses what is longer without reading it whole).
/// Returns a flat list `id, value, id, value, ...` in id order.
pub static MEMBERS: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now_ms)
if #gone > 0 then
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms)
  redis.call('HDEL', KEYS[2], unpack(gone))
end
local cut = tonumber(ARGV[1])
local ids = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = string.sub(id, 1, cut)
  out[#out + 1] = string.sub(redis.call('HGET', KEYS[2], id) or '', 1, cut)
end
return out
"#,
    )
});
