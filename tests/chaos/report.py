"""The results table of docs/chaos.md: fault x store, with runs, violations and the worst
takeover (ms from the fault to a successor's first true is_leader() sample)."""
import re
import time

STORES = ["etcd", "etcd cluster", "zk", "zk cluster", "zk partition", "redis", "postgres"]
FAULTS = ["baseline", "sigkill", "sigstop", "store_restart", "store_restart_leader_cut", "link_stall", "cluster_leader_kill", "partition",
          "partition_one_way", "run"]


def table(results, soak_minutes, ttl_ms):
    stores = [s for s in STORES if any(k.endswith("|" + s) for k in results)]
    mode = f"soak of {soak_minutes:g} minutes" if soak_minutes else "CI mode"
    lines = [f"{mode}, ttl {ttl_ms} ms, {time.strftime('%Y-%m-%d', time.gmtime())}. "
             "Each cell: runs / violations / worst takeover.", "",
             "| fault | " + " | ".join(stores) + " |",
             "|---|" + "---|" * len(stores)]
    for fault in FAULTS:
        cells = []
        for s in stores:
            r = results.get(f"{fault}|{s}")
            worst = "-" if not r or r["worst_ms"] is None else f"{r['worst_ms']} ms"
            cells.append("" if not r else f"{r['runs']} / {r['violations']} / {worst}")
        if any(cells):
            lines.append(f"| {fault} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def write_report(path, results, soak_minutes, ttl_ms):
    """Replaces the text between the markers of this mode (CI or soak) in path with a fresh
    table: `<!-- chaos results: ci begin -->` ... `<!-- chaos results: ci end -->`."""
    mode = "soak" if soak_minutes else "ci"
    begin, end = f"<!-- chaos results: {mode} begin -->", f"<!-- chaos results: {mode} end -->"
    with open(path) as f:
        text = f.read()
    if begin not in text or end not in text:
        raise SystemExit(f"{path}: no `{begin}` ... `{end}` markers to put the table between")
    new = f"{begin}\n{table(results, soak_minutes, ttl_ms)}\n{end}"
    text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: new, text, flags=re.S)
    with open(path, "w") as f:
        f.write(text)
    print(f"results table written to {path}")
