"""Summary statistics shared by the Python benchmarks."""

from __future__ import annotations

import statistics
from typing import List, Tuple


def median_p99(samples: List[float]) -> Tuple[float, float]:
    """Median and 99th percentile (nearest rank; the largest sample for 100 or fewer)."""
    s = sorted(samples)
    return statistics.median(s), s[min(len(s) - 1, int(len(s) * 0.99))]
