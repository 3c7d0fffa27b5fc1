"""Summary statistics shared by the Python benchmarks (this directory's, and those of
bench/redis and bench/zookeeper, which import it)."""

from __future__ import annotations

import json
import math
from typing import List, Sequence, Tuple


def nearest_rank(sorted_samples: Sequence[float], p: float) -> float:
    """The p-th percentile by nearest rank, the one definition of every benchmark of the
    project (bench/README.md): the smallest sample such that at least p % of the samples are at
    or below it."""
    rank = math.ceil(len(sorted_samples) * p / 100)
    return sorted_samples[max(1, rank) - 1]


def median_p99(samples: List[float]) -> Tuple[float, float]:
    """Median and 99th percentile (nearest rank; the largest sample for 100 or fewer)."""
    s = sorted(samples)
    return nearest_rank(s, 50), nearest_rank(s, 99)


def result_line(goal: str, samples: List[float], unit: str, **fields: object) -> str:
    """One result as the JSON line that scripts/bench collects into bench/RESULTS.md: the goal
    (its table), what was measured (`fields`), and n, median, p99 and max in `unit` (keys
    `p50_<unit>`, `p99_<unit>`, `max_<unit>`)."""
    s = sorted(samples)
    stats = {"n": len(s), f"p50_{unit}": round(nearest_rank(s, 50), 3),
             f"p99_{unit}": round(nearest_rank(s, 99), 3), f"max_{unit}": round(s[-1], 3)}
    return json.dumps({"goal": goal, **fields, **stats})
