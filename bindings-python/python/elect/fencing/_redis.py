"""A Redis SET guarded by a fence key, in one Lua script (atomic on the server)."""

from __future__ import annotations

from typing import Any, Optional, Union

from ._errors import StaleTokenError, check_token

#: KEYS: fence, key. ARGV: token, value. Reply ``[1, token]`` when written, ``[0, highest]`` when
#: the token is stale. A copy of fencing/redis-set.lua in the repository (the one source of the
#: script), checked against it by the tests.
SCRIPT = """\
local highest = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) < highest then return {0, highest} end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return {1, tonumber(ARGV[1])}
"""


def redis_set(client: Any, fence_key: str, token: Optional[int], key: str, value: Union[str, bytes]) -> None:
    """``SET key value`` only if ``token`` is not older than the one in ``fence_key``.

    ``client`` is a redis-py client. Raises :class:`StaleTokenError` (and writes nothing) for a
    stale token. In Redis Cluster give both keys one hash tag (``{jobs}:fence``, ``{jobs}:data``).
    """
    token = check_token(token)
    ok, highest = client.eval(SCRIPT, 2, fence_key, key, token, value)
    if int(ok) != 1:
        raise StaleTokenError(key, token, int(highest))
