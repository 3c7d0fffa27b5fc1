"""Builds bench/RESULTS.md and bench/results.png from the result lines of one scripts/bench run.

    python bench/report.py RESULTS.jsonl --out bench/

Every benchmark prints its results as JSON lines (one object per line): `goal` names the table
the row goes to, the other keys say what was measured (`lang`, `lib`, `store`, `mode`, ...) and
its figures (`n`, `p50_<unit>`, `p99_<unit>`, `max_<unit>` by the one percentile definition of
bench/README.md, or plain values such as `rss_mib`). The `meta` line of scripts/bench describes
the run (machine, versions, command).

One section per goal, in the order of GOALS; a goal missing from GOALS still gets a section, a
table of all its keys, so a new benchmark shows up before anyone writes a layout for it. To give
it a layout, add a Goal (title, what it measures, columns, optional target check).
"""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

Row = Dict[str, Any]

STORES = {"zk": "ZooKeeper", "zookeeper": "ZooKeeper", "etcd": "etcd", "redis": "Redis",
          "postgres": "PostgreSQL", "postgresql": "PostgreSQL", "mysql": "MariaDB",
          "file": "file"}
STORE_ORDER = ["ZooKeeper", "etcd", "Redis", "PostgreSQL", "MariaDB", "file"]
LANGS = {"c": "C", "java": "Java", "go": "Go", "python": "Python", "rust": "Rust"}


def store_name(row: Row) -> str:
    return STORES.get(str(row.get("store", "")), str(row.get("store", "-")))


def number(v: Any, digits: int = 2) -> str:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return "-" if v is None else str(v)
    return f"{v:,.{digits}f}" if isinstance(v, float) else f"{v:,}"


@dataclass
class Goal:
    key: str
    title: str
    intro: str
    columns: List[Tuple[str, Callable[[Row], str]]]
    sort: Callable[[Row], Any] = lambda r: 0
    # Adds derived keys to the rows (e.g. ratios), given all rows of the goal.
    derive: Callable[[List[Row]], None] = lambda rows: None
    notes: List[str] = field(default_factory=list)


# -- hand-over ------------------------------------------------------------------------------

def handover_target(r: Row) -> Optional[float]:
    """The p99 the issue asks of elect: 5 ms graceful, ttl + 100 ms after a crash."""
    if r.get("mode") == "graceful":
        return 5.0
    return float(r.get("ttl_s", 0)) * 1000 + 100 if r.get("ttl_s") else None


def derive_ratios(rows: List[Row]) -> None:
    """Each row's median and p99 over the best peer's on the same store and mode (any language):
    below 1 is ahead of the best peer."""
    best: Dict[Tuple[str, str], Tuple[float, float]] = {}
    for r in rows:
        if r.get("lib") != "elect":
            k = (store_name(r), r.get("mode", ""))
            p50, p99 = best.get(k, (float("inf"), float("inf")))
            best[k] = (min(p50, r["p50_ms"]), min(p99, r["p99_ms"]))
    for r in rows:
        b = best.get((store_name(r), r.get("mode", "")))
        if b:
            r["ratio"] = f"{r['p50_ms'] / b[0]:.2f} / {r['p99_ms'] / b[1]:.2f}"
        target = handover_target(r)
        if r.get("lib") == "elect" and target is not None:
            r["target"] = f"{'met' if r['p99_ms'] <= target else 'MISSED'} (p99 ≤ {target:g} ms)"


def handover_sort(r: Row) -> Any:
    s = store_name(r)
    return (STORE_ORDER.index(s) if s in STORE_ORDER else 99, r.get("mode") != "graceful",
            r.get("lib") != "elect", r.get("lang", ""), r.get("lib", ""))


def library(r: Row) -> str:
    v = r.get("version")
    lib = f"**{r['lib']}**" if r.get("lib") == "elect" else str(r.get("lib"))
    return lib if not v or v in ("this tree", "?") else f"{lib} {v}"


HANDOVER = Goal(
    "handover", "Hand-over time",
    "From the moment the leader goes (graceful: just before its own way to step down; crash: "
    "SIGKILL of its process) to the moment the successor's code learns it leads, in another "
    "process, on CLOCK_MONOTONIC. Each library runs in its own language against the same "
    "servers; `ratio` is the row's median / p99 over the best peer's median / p99 on that store "
    "and mode (any language; below 1 is ahead). `target` is the issue's bound for elect.",
    [("store", store_name), ("mode", lambda r: r.get("mode", "-")),
     ("language", lambda r: LANGS.get(r.get("lang", ""), r.get("lang", "-"))),
     ("library", library), ("rounds", lambda r: number(r.get("n"))),
     ("median ms", lambda r: number(r.get("p50_ms"))), ("p99 ms", lambda r: number(r.get("p99_ms"))),
     ("ratio to best peer", lambda r: r.get("ratio", "-")), ("target", lambda r: r.get("target", "-"))],
    sort=handover_sort, derive=derive_ratios)

# -- is_leader ------------------------------------------------------------------------------

# The bounds, for the call each language's users make.
IS_LEADER_TARGET_NS = {("c", "elect_is_leader"): 20, ("java", "isLeader()"): 100,
                       ("go", "Election.IsLeader()"): 100, ("python", "e.is_leader (property)"): 300}


def derive_is_leader(rows: List[Row]) -> None:
    for r in rows:
        t = IS_LEADER_TARGET_NS.get((r.get("lang", ""), r.get("what", "")))
        if r.get("lib") == "elect" and t and "p50_ns" in r:
            r["target"] = f"{'met' if r['p50_ns'] <= t else 'MISSED'} (≤ {t} ns)"


IS_LEADER = Goal(
    "is_leader", "Cost of `is_leader`",
    "ns per call on a leading election, per batch of calls (the figure is the batch's time over "
    "its calls), median and p99 over the batches. The target applies to the median.",
    [("language", lambda r: LANGS.get(r.get("lang", ""), r.get("lang", "-"))),
     ("library", library), ("call", lambda r: f"`{r.get('what', '-')}`"),
     ("threads", lambda r: number(r.get("threads", 1))), ("batches", lambda r: number(r.get("n"))),
     ("median ns", lambda r: number(r.get("p50_ns"), 1)), ("p99 ns", lambda r: number(r.get("p99_ns"), 1)),
     ("target", lambda r: r.get("target", "-"))],
    sort=lambda r: (list(LANGS).index(r["lang"]) if r.get("lang") in LANGS else 9, r.get("lib") != "elect",
                    r.get("what", ""), r.get("threads", 1)),
    derive=derive_is_leader)

# -- idle elections -------------------------------------------------------------------------


def derive_idle(rows: List[Row]) -> None:
    """The issue's bounds: 1,000 elections in 50 MB, 10,000 (with callbacks) in 100 MB."""
    for r in rows:
        n = r.get("elections", 0)
        limit = {1000: 50, 10000: 100}.get(n)
        if limit:
            r["target"] = f"{'met' if r.get('rss_mib', 1e9) <= limit else 'MISSED'} (RSS ≤ {limit} MB)"


IDLE = Goal(
    "idle", "Idle elections in one process",
    "One process opens N elections, each under its own name (so all lead), waits until all "
    "lead, then sits idle for the window: its resident memory (VmRSS), threads and CPU. "
    "`callbacks`: every election has an event handler, as the Java and Python bindings always "
    "register one.",
    [("store", store_name), ("language", lambda r: LANGS.get(r.get("lang", ""), r.get("lang", "-"))),
     ("elections", lambda r: number(r.get("elections"))),
     ("callbacks", lambda r: "yes" if r.get("callbacks") else "no"),
     ("RSS MiB", lambda r: number(r.get("rss_mib"), 1)), ("threads", lambda r: number(r.get("threads"))),
     ("CPU % of a core", lambda r: number(r.get("cpu_pct"))),
     ("leading", lambda r: f"{r.get('leading', '-')}/{r.get('elections', '-')}"),
     ("target", lambda r: r.get("target", "-"))],
    sort=lambda r: (r.get("elections", 0), r.get("callbacks", False),
                    STORE_ORDER.index(store_name(r)) if store_name(r) in STORE_ORDER else 99),
    derive=derive_idle)

GOALS = [HANDOVER, IS_LEADER, IDLE]


def table(columns: Sequence[Tuple[str, Callable[[Row], str]]], rows: List[Row]) -> List[str]:
    out = ["| " + " | ".join(c for c, _ in columns) + " |",
           "|" + "|".join("---" for _ in columns) + "|"]
    out += ["| " + " | ".join(str(f(r)) for _, f in columns) + " |" for r in rows]
    return out


def generic_goal(key: str, rows: List[Row]) -> Goal:
    keys: List[str] = []
    for r in rows:
        keys += [k for k in r if k != "goal" and k not in keys]
    return Goal(key, f"`{key}`", "(no layout in bench/report.py yet: every key of its lines)",
                [(k, (lambda k: lambda r: number(r.get(k)))(k)) for k in keys])


def markdown(rows: List[Row], meta: Row) -> str:
    lines = ["# Benchmark results", "",
             "Generated by `scripts/bench` from one run: every store against every peer in its "
             "own language, on the same servers. Do not edit by hand; run the command again.", ""]
    lines += ["## Run", ""]
    for k, label in (("command", "command"), ("date", "date"), ("commit", "commit"),
                     ("profile", "build"), ("machine", "machine"), ("load", "load average (start → end)"),
                     ("servers", "servers"), ("toolchains", "toolchains"), ("rounds", "rounds")):
        if meta.get(k):
            v = meta[k]
            lines.append(f"- {label}: " + (f"`{v}`" if k == "command" else str(v)))
    libs = sorted({f"{r['lib']} {r['version']} ({LANGS.get(r.get('lang', ''), '')})"
                   for r in rows if r.get("version") and r.get("lib") != "elect" and r["version"] != "?"})
    if libs:
        lines.append("- peer libraries: " + ", ".join(libs))
    if meta.get("missing"):
        lines.append("- not measured: " + "; ".join(meta["missing"]))
    lines += ["", "![hand-over times](results.png)", ""]
    by_goal: Dict[str, List[Row]] = {}
    for r in rows:
        by_goal.setdefault(r["goal"], []).append(r)
    known = {g.key for g in GOALS}
    goals = [g for g in GOALS if g.key in by_goal]
    goals += [generic_goal(k, v) for k, v in by_goal.items() if k not in known]
    for g in goals:
        rs = sorted(by_goal[g.key], key=g.sort)
        g.derive(rs)
        lines += [f"## {g.title}", "", g.intro, ""]
        if g.key == "is_leader" and "debug" in str(meta.get("profile", "")):
            lines += ["**Debug build**: these figures are several times a release build's (no "
                      "inlining across the FFI, JNI and PyO3 layers); compare them only with "
                      "other debug runs, or run with `ELECT_BENCH_PROFILE=release`.", ""]
        lines += table(g.columns, rs) + [""]
    return "\n".join(lines)


def chart(rows: List[Row], path: str) -> None:
    """Hand-over medians (bars) and p99 (ticks), graceful and crash side by side."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    hand = sorted((r for r in rows if r["goal"] == "handover"), key=handover_sort)
    modes = [m for m in ("graceful", "crash") if any(r.get("mode") == m for r in hand)]
    if not modes:
        return
    height = max(len([r for r in hand if r.get("mode") == m]) for m in modes)
    fig, axes = plt.subplots(1, len(modes), figsize=(7 * len(modes), 0.32 * height + 1.6), squeeze=False)
    for ax, mode in zip(axes[0], modes):
        rs = [r for r in hand if r.get("mode") == mode][::-1]
        labels = [f"{store_name(r)} · {r['lib']} ({LANGS.get(r.get('lang', ''), '')})" for r in rs]
        ys = range(len(rs))
        colors = ["#1f77b4" if r.get("lib") == "elect" else "#b0b0b0" for r in rs]
        ax.barh(ys, [r["p50_ms"] for r in rs], color=colors, label="median")
        ax.scatter([r["p99_ms"] for r in rs], ys, marker="|", s=160, color="#d62728", label="p99", zorder=3)
        ax.set_yticks(list(ys))
        ax.set_yticklabels(labels, fontsize=8)
        if mode == "graceful":
            # Medians from under a millisecond to a hundred: a log scale, bars from 0.1 ms.
            ax.set_xscale("log")
            ax.set_xlim(left=0.1)
            ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xlabel("ms (log scale)")
        else:
            ax.set_xlim(left=0)
            ax.set_xlabel("ms")
        ax.set_title(f"{mode} hand-over (blue: elect, grey: peers)")
        ax.set_xlim(right=1.4 * max(r["p99_ms"] for r in rs))
        ax.grid(axis="x", which="both", alpha=0.3)
        ax.legend(loc="best", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", help="the JSON lines of one run")
    ap.add_argument("--out", default=os.path.dirname(os.path.abspath(__file__)), help="directory of RESULTS.md and results.png")
    args = ap.parse_args()
    rows: List[Row] = []
    meta: Row = {}
    with open(args.results) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                r = json.loads(line)
            except json.JSONDecodeError as e:
                raise SystemExit(f"{args.results}:{n}: not a JSON line ({e}): {line[:80]}")
            if not isinstance(r, dict) or "goal" not in r:
                raise SystemExit(f"{args.results}:{n}: a result line needs a \"goal\": {line[:80]}")
            if r["goal"] == "meta":
                meta.update(r)
            else:
                rows.append(r)
    with open(os.path.join(args.out, "RESULTS.md"), "w") as f:
        f.write(markdown(rows, meta))
    chart(rows, os.path.join(args.out, "results.png"))


if __name__ == "__main__":
    main()
