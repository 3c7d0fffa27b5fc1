#!/usr/bin/env bash
# Redis benchmarks: elect's failover times and idle cost, then redis-py's Lock side by side on
# a server of the same kind. Results and their reading: bench/README-redis.md.
#   bench/redis.sh            (ROUNDS=50 ELECTIONS=1000 by default)
set -euo pipefail
cd "$(dirname "$0")/.."
export ELECT_RUN_DIR=${ELECT_RUN_DIR:-$(mktemp -d /tmp/elect-run.XXXXXX)}
cargo build --release --quiet -p elect-bench --bin redis_bench
target/release/redis_bench failover --rounds "${ROUNDS:-50}"
echo
target/release/redis_bench idle --elections "${ELECTIONS:-1000}"
echo
python3 -c 'import redis' 2>/dev/null || python3 -m pip install --quiet redis
name="pylock-$$"
eval "$(scripts/servers/redis start "$name")"
trap 'scripts/servers/redis stop "$name"' EXIT
python3 bench/redis_py_lock.py --uri "$ELECT_REDIS_URI" --rounds "${ROUNDS:-50}"
