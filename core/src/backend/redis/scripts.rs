//! The Lua scripts. Each runs atomically on the server, so "check the holder, then act" cannot
//! interleave with another candidate's request. Times come from the server's `TIME`, never from
//! the clients' clocks.

use once_cell::sync::Lazy;
use redis::Script;

/// Takes the lock if it is free and the restart guard allows it; refreshes the caller's
/// membership either way.
///
/// KEYS: lock, leader, term, boot, members, values. ARGV: token, ttl ms, id, value, channel.
/// Returns `{1, term}` when granted (or already held with this token: an earlier attempt whose
/// answer was lost; the lock is then extended, as the caller counts its lease from now), else
/// `{0, wait ms}`:
/// how long until the lock can be free at the earliest.
///
/// Fencing token: `max(last term + 1, server TIME in microseconds)`. The `+ 1` keeps tokens
/// strictly increasing while the data lasts; the clock keeps them increasing when it does not
/// (a restart without persistence, a flush): every new token is at least the server's time in
/// microseconds, which exceeds every token granted before as long as the server's clock does not
/// step back and no election grants more than one leadership per microsecond.
///
/// Restart guard: `boot` holds when the server's data began. A server that lost its data also
/// lost the lock of a leader that still believes it leads (until its deadline, at most `ttl`
/// after its last renewal), so no lock is granted until `ttl` after the data began: the delayed
/// restart that Redis's own distributed-lock documentation prescribes, enforced by the script.
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
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ttl)
  redis.call('PEXPIRE', KEYS[2], ttl)
  return {1, tonumber(redis.call('HGET', KEYS[2], 'term'))}
end
if holder then
  return {0, redis.call('PTTL', KEYS[1])}
end
local boot = tonumber(redis.call('GET', KEYS[4]))
if not boot then
  boot = now_ms
  redis.call('SET', KEYS[4], string.format('%d', boot))
end
if now_ms < boot + ttl then
  return {0, boot + ttl - now_ms}
end
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ttl) then
  return {0, redis.call('PTTL', KEYS[1])}
end
local last = tonumber(redis.call('GET', KEYS[3])) or 0
local term = math.max(last + 1, now_us)
local term_s = string.format('%d', term)
redis.call('SET', KEYS[3], term_s)
redis.call('HSET', KEYS[2], 'id', ARGV[3], 'value', ARGV[4], 'term', term_s, 'token', ARGV[1])
redis.call('PEXPIRE', KEYS[2], ttl)
redis.call('PUBLISH', ARGV[5], 'elected')
return {1, term}
"#,
    )
});

/// Renews any number of leaderships and member heartbeats, and reads the term of any number of
/// watched elections, in one request: the keep-alive of a whole process costs one command per
/// interval, however many elections it runs or follows.
///
/// KEYS: `n` pairs (lock, leader), `m` pairs (members, values), then `w` leader keys.
/// ARGV: ttl ms, n, m, the `n` tokens, then `m` pairs (id, value).
/// Returns `n` verdicts (1: still ours and extended, 0: not), then `w` terms (0: no leader).
pub static KEEPALIVE: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
local t = redis.call('TIME')
local now_ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
local n, m = tonumber(ARGV[2]), tonumber(ARGV[3])
local out = {}
for i = 1, n do
  if redis.call('GET', KEYS[2 * i - 1]) == ARGV[3 + i] then
    redis.call('PEXPIRE', KEYS[2 * i - 1], ttl)
    redis.call('PEXPIRE', KEYS[2 * i], ttl)
    out[i] = 1
  else
    out[i] = 0
  end
end
for j = 1, m do
  local members, values = KEYS[2 * n + 2 * j - 1], KEYS[2 * n + 2 * j]
  local id, value = ARGV[3 + n + 2 * j - 1], ARGV[3 + n + 2 * j]
  redis.call('ZADD', members, now_ms + ttl, id)
  redis.call('HSET', values, id, value)
  redis.call('PEXPIRE', members, 2 * ttl)
  redis.call('PEXPIRE', values, 2 * ttl)
end
for k = 2 * (n + m) + 1, #KEYS do
  out[#out + 1] = tonumber(redis.call('HGET', KEYS[k], 'term')) or 0
end
return out
"#,
    )
});

/// Gives the lock up if the caller holds it, announcing it so that waiters try at once; with
/// ARGV[3] (an id) also removes that member.
///
/// KEYS: lock, leader, members, values. ARGV: token, channel, [id]. Returns 1 if it released.
pub static RELEASE: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
local released = 0
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1], KEYS[2])
  redis.call('PUBLISH', ARGV[2], 'released')
  released = 1
end
if ARGV[3] then
  redis.call('ZREM', KEYS[3], ARGV[3])
  redis.call('HDEL', KEYS[4], ARGV[3])
end
return released
"#,
    )
});

/// The current leader. KEYS: lock, leader. Returns `{}` or `{id, value, term}`.
pub static LEADER: Lazy<Script> = Lazy::new(|| {
    Script::new(
        r#"
local holder = redis.call('GET', KEYS[1])
if not holder then return {} end
local h = redis.call('HMGET', KEYS[2], 'id', 'value', 'term', 'token')
if h[4] ~= holder then return {} end
return {h[1], h[2], h[3]}
"#,
    )
});

/// The live members, expired heartbeats trimmed. KEYS: members, values.
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
local ids = redis.call('ZRANGE', KEYS[1], 0, -1)
table.sort(ids)
local out = {}
for _, id in ipairs(ids) do
  out[#out + 1] = id
  out[#out + 1] = redis.call('HGET', KEYS[2], id) or ''
end
return out
"#,
    )
});
