#!/usr/bin/env python3
"""Appends one benchmark run to runs.csv: the client's /usr/bin/time -v figures,
its own report, and the sandbox's /_sandbox/stats. Called by bench/run.sh."""
import argparse
import csv
import json
import os
import re

COLUMNS = [
    "scenario", "tool", "run", "exit", "input_pairs", "sandbox_rate",
    "wall_s", "user_s", "sys_s", "cpu_s", "peak_rss_mb", "sandbox_cpu_s",
    "archived_pairs", "pairs_per_s", "cpu_s_per_m_pairs",
    "requests", "accepted", "rate_limited", "remaining_pairs", "max_requests_in_window",
    "faults_injected", "client_requests", "client_failed_pairs",
    "start_s", "active_s", "rate_after_first_window", "share_after_first_window",
    "bg_requests", "bg_rate_limited", "bg_rate_per_s", "loadavg",
    "operation", "listing_lines", "listing_ok",
    "read_requests", "backup_requests",
]


def parse_time(path):
    out = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("User time"):
                out["user_s"] = float(line.split(":")[-1])
            elif line.startswith("System time"):
                out["sys_s"] = float(line.split(":")[-1])
            elif line.startswith("Maximum resident set size"):
                out["peak_rss_mb"] = int(line.split(":")[-1]) / 1024.0
            elif line.startswith("Elapsed (wall clock)"):
                t = line.split(": ")[-1].split(":")
                secs = 0.0
                for part in t:
                    secs = secs * 60 + float(part)
                out["wall_s"] = secs
    return out


def per_second(rate):
    """'190/10s' -> 19.0 requests/s; '0' -> 0."""
    m = re.fullmatch(r"(\d+)/(\d+)(ms|s)", rate or "")
    if not m:
        return 0.0
    n, w, unit = int(m.group(1)), int(m.group(2)), m.group(3)
    return n / (w / 1000.0 if unit == "ms" else w)


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def main():
    ap = argparse.ArgumentParser()
    for a in ["runs", "scenario", "tool", "run", "exit", "time", "stats", "report", "input-pairs", "rate",
              "sandbox-cpu-s", "wall-s", "stats-pre", "bg-report", "bg-rate", "loadavg",
              "operation", "listing-lines", "listing-ok"]:
        ap.add_argument("--" + a)
    # The sandbox's counts less those before the client started (the export
    # scenarios label pairs first, on the same sandbox).
    ap.add_argument("--count-from-pre", action="store_true")
    a = ap.parse_args()

    t = parse_time(a.time)
    stats = load_json(a.stats)
    pre = load_json(a.stats_pre)
    rep = load_json(a.report)
    bg = load_json(a.bg_report) if a.bg_report else {}

    wall = t.get("wall_s") or float(a.wall_s)
    cpu = t.get("user_s", 0) + t.get("sys_s", 0)
    # Pairs the client reports done: archived, or created (create scenarios;
    # the column keeps its name so runs.csv stays one schema).
    # Export: the associations read (hubbatch's report and the SDK peer's both
    # say "associations"); pairs/s is then associations/s.
    if a.operation == "export":
        archived = int(rep.get("associations", 0))
    else:
        archived = int(rep.get("archived_pairs", rep.get("created_pairs", 0)))
    input_pairs = int(a.input_pairs)
    by_status = stats.get("by_status", {})
    requests, accepted = stats.get("requests", ""), stats.get("accepted", "")
    rate_limited = by_status.get("429", 0)
    read_requests = stats.get("read_requests", "")
    if a.count_from_pre:
        requests = int(requests or 0) - int(pre.get("requests", 0))
        accepted = int(accepted or 0) - int(pre.get("accepted", 0))
        rate_limited = int(rate_limited) - int(pre.get("by_status", {}).get("429", 0))
        read_requests = int(read_requests or 0) - int(pre.get("read_requests", 0))
    # archive --backup: its reads are in report.backup, not in report.requests.
    backup = rep.get("backup") if isinstance(rep.get("backup"), dict) else {}

    # The client's stretch of the sandbox's accepted-requests-per-second series.
    rps = stats.get("requests_per_second", [])
    start = max(0, len(pre.get("requests_per_second", [0])) - 1)
    active = max(1, int(round(wall)))
    limit = per_second(a.rate)
    bg_rate = 0.0
    if bg:
        bg_acc = int(bg.get("requests", 0)) - int(bg.get("rate_limited", 0))
        bg_rate = bg_acc / max(float(bg.get("elapsed_s", 1)), 1e-9)
    # After the first window: from the 10th second of the client's run, over a
    # whole number of 10 s windows that ends before its last, partial second.
    # Whole windows matter: a client that sends each window's allowance in one
    # burst would otherwise read above or below its true rate.
    window_s = 10
    lo = start + window_s
    end = min(len(rps), start + int(wall))
    hi = lo + window_s * max(0, (end - lo) // window_s)
    rate_after = share_after = ""
    if limit > 0 and hi > lo:
        mean = sum(rps[lo:hi]) / (hi - lo)
        rate_after = round(mean, 3)
        share_after = round((mean - bg_rate) / (limit - bg_rate), 4)

    row = {
        "scenario": a.scenario, "tool": a.tool, "run": a.run, "exit": a.exit,
        "input_pairs": input_pairs, "sandbox_rate": a.rate,
        "wall_s": round(wall, 3), "user_s": t.get("user_s", ""), "sys_s": t.get("sys_s", ""),
        "cpu_s": round(cpu, 3), "peak_rss_mb": round(t.get("peak_rss_mb", 0), 1),
        "sandbox_cpu_s": round(float(a.sandbox_cpu_s), 2),
        "archived_pairs": archived, "pairs_per_s": round(archived / wall, 1) if wall else 0,
        "cpu_s_per_m_pairs": round(cpu / input_pairs * 1e6, 3),
        "requests": requests, "accepted": accepted,
        "rate_limited": rate_limited, "remaining_pairs": stats.get("remaining_pairs", ""),
        "max_requests_in_window": stats.get("max_requests_in_window", ""),
        "faults_injected": stats.get("faults_injected", 0),
        "client_requests": rep.get("requests", rep.get("chunks", "")),
        "client_failed_pairs": rep.get("failed_pairs", ""),
        "start_s": start, "active_s": active,
        "rate_after_first_window": rate_after, "share_after_first_window": share_after,
        "bg_requests": bg.get("requests", ""), "bg_rate_limited": bg.get("rate_limited", ""),
        "bg_rate_per_s": round(bg_rate, 3) if bg else "",
        "loadavg": a.loadavg or "",
        "operation": a.operation or "archive",
        "listing_lines": a.listing_lines or "", "listing_ok": a.listing_ok or "",
        "read_requests": read_requests, "backup_requests": backup.get("requests", ""),
    }
    new = not os.path.exists(a.runs)
    with open(a.runs, "a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        if new:
            w.writeheader()
        w.writerow(row)


if __name__ == "__main__":
    main()
