"""The fenced Redis SET (elect.fencing.redis_set) against a real Redis server, with redis-py."""

from __future__ import annotations

import os
import uuid
from typing import Tuple

import pytest

from conftest import ROOT, Servers, server_uri
from elect import fencing
from elect.fencing import _redis

redis = pytest.importorskip("redis")


def test_stale_token_is_rejected_and_does_not_write(servers: Servers, terms: Tuple[int, int]) -> None:
    tls = server_uri(servers, "redis").startswith("rediss://")
    client = redis.Redis(
        host="127.0.0.1",
        port=int(os.environ["ELECT_REDIS_PORT"]),
        ssl=tls,
        ssl_ca_certs=os.environ.get("ELECT_REDIS_TLS_CA") if tls else None,
    )
    older, newer = terms
    tag = uuid.uuid4().hex[:10]
    fence, key = f"{{{tag}}}:fence", f"{{{tag}}}:data"
    try:
        fencing.redis_set(client, fence, older, key, "old")
        fencing.redis_set(client, fence, newer, key, "new")
        with pytest.raises(fencing.StaleTokenError) as err:
            fencing.redis_set(client, fence, older, key, "stale")
        assert err.value.highest == newer
        assert client.get(key) == b"new" and int(client.get(fence)) == newer
        fencing.redis_set(client, fence, newer, key, "again")  # the same term writes again
        assert client.get(key) == b"again"
    finally:
        client.delete(fence, key)
        client.close()


def test_the_script_is_the_repositorys() -> None:
    """The script is a copy of fencing/redis-set.lua, the one source every language's kit runs."""
    assert _redis.SCRIPT == (ROOT / "fencing" / "redis-set.lua").read_text()
