"""The results table of docs/chaos.md: fault x store, with runs, violations and the worst
takeover (ms from the fault to a successor's first true is_leader() sample)."""
import re
import time

BEGIN, END = "<!-- chaos results: begin -->", "<!-- chaos results: end -->"
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
    """Replaces the text between the markers in path with a fresh table."""
    with open(path) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        raise SystemExit(f"{path}: no `{BEGIN}` ... `{END}` markers to put the table between")
    new = f"{BEGIN}\n{table(results, soak_minutes, ttl_ms)}\n{END}"
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda _: new, text, flags=re.S)
    with open(path, "w") as f:
        f.write(text)
    print(f"results table written to {path}")
