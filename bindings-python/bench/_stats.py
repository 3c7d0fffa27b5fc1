"""Summary statistics shared by the Python benchmarks (this directory's, and those of
bench/redis and bench/zookeeper, which import it)."""

from __future__ import annotations

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
