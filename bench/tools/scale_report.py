#!/usr/bin/env python3
"""The Scale-to-100M section of bench/results/latest.md and its chart.

    scale_report.py --raw bench/results/raw --out bench/results [--splice]

Reads what bench/run.sh's scale_scenarios left in raw/: for each run TAG-RUN
(TAG `big` for the large input, `ref` for the 1M-pair reference)
scale100m-TAG-RUN.{meta.json,report.json,stats.json,time.txt,samples.csv}.
Writes results/scale-100m.svg (pairs/s, RSS and temporary disk over time
of the first big run) and raw/scale100m-summary.json; with --splice,
replaces (or inserts before "## Charts") the section in results/latest.md,
with results/analysis-scale.md appended when present. section(raw) is what
summarize.py includes in a full run. Standard library only.
"""
import argparse
import csv
import glob
import json
import math
import os
import re
import statistics

HEADING = "## Scale to 100 million pairs"
SVG = "scale-100m.svg"
RSS_TARGET_MB = 64
RATIO_TARGET = 0.15


def time_v(path):
    """Peak RSS (MB), user+sys CPU (s) from /usr/bin/time -v."""
    text = open(path).read() if os.path.exists(path) else ""
    def num(label):
        m = re.search(re.escape(label) + r":\s*([0-9.]+)", text)
        return float(m.group(1)) if m else 0.0
    return num("Maximum resident set size (kbytes)") / 1024, num("User time (seconds)") + num("System time (seconds)")


def samples(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


def load_runs(raw):
    runs = []
    for meta_path in sorted(glob.glob(os.path.join(raw, "scale100m-*.meta.json"))):
        base = meta_path[: -len(".meta.json")]
        meta = json.load(open(meta_path))
        rep = json.load(open(base + ".report.json")) if os.path.exists(base + ".report.json") else {}
        stats = json.load(open(base + ".stats.json")) if os.path.exists(base + ".stats.json") else {}
        rss_mb, cpu = time_v(base + ".time.txt")
        s = samples(base + ".samples.csv")
        part = rep.get("partition") or {}
        archived = rep.get("archived_pairs", 0)
        ok = (rep.get("invariant_ok") is True and rep.get("input_pairs") == meta["pairs"] and archived == meta["pairs"]
              and rep.get("failed_pairs") == 0 and rep.get("pending_pairs") == 0
              and stats.get("remaining_pairs") == 0 and meta["exit"] == 0)
        runs.append({
            "base": base, "tag": meta["tag"], "run": meta["run"], "pairs": meta["pairs"], "exit": meta["exit"],
            "wall_s": meta["wall_s"], "pairs_per_s": archived / meta["wall_s"] if meta["wall_s"] else 0,
            "report_pairs_per_s": rep.get("pairs_per_s", 0), "rss_mb": rss_mb, "cpu_s": cpu,
            "cpu_per_m": cpu / (meta["pairs"] / 1e6), "sandbox_cpu_s": meta["sandbox_cpu_s"],
            "sandbox_hwm_mb": meta["sandbox_hwm_kb"] / 1024, "partition_s": part.get("seconds", 0),
            "partition_files": part.get("files", 0), "partition_bytes": part.get("bytes", 0),
            "spill_peak_bytes": max((r["spill_bytes"] for r in s), default=0),
            "tmp_left": meta["tmp_left"], "journal_bytes": meta["journal_bytes"],
            "requests": rep.get("requests", 0), "pairs_per_request": rep.get("pairs_per_request", 0),
            "left": stats.get("remaining_pairs"), "sandbox_archived": stats.get("archived_pairs"),
            "load_before": meta["load_before"], "load_after": meta["load_after"], "ok": ok,
            "csv_bytes": meta["csv_bytes"], "gen_s": meta["gen_s"], "samples": s, "started": meta.get("started", ""),
        })
    return runs


def med(xs):
    return statistics.median(xs) if xs else 0


def nice_step(span, ticks=4):
    """A round step (1, 2, 2.5 or 5 times a power of ten) giving about `ticks` intervals over span."""
    raw = max(span, 1e-9) / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def tick_label(v):
    if v >= 1e6:
        return f"{v / 1e6:g}M"
    if v >= 1e3:
        return f"{v / 1e3:g}k"
    return f"{v:g}"


def chart(run, path):
    """Three panels over the run's time: pairs/s, RSS, temporary disk; the partition pass shaded."""
    s = run["samples"]
    if len(s) < 2:
        return False
    W, H, left, right, top = 900, 640, 80, 30, 40
    panel_h, gap = 150, 45
    t_max = max(r["t_s"] for r in s) or 1
    rate = [(s[i]["t_s"], max(0.0, (s[i]["archived"] - s[i - 1]["archived"]) / max(1e-9, s[i]["t_s"] - s[i - 1]["t_s"])))
            for i in range(1, len(s))]
    series = [
        ("archived pairs/s (per 1 s sample)", "pairs/s", [(t, v) for t, v in rate], "#1f77b4", None),
        ("hubbatch RSS (VmRSS), MB", "MB", [(r["t_s"], r["rss_kb"] / 1024) for r in s], "#d62728", RSS_TARGET_MB),
        ("temporary disk (the open partition files), GB", "GB", [(r["t_s"], r["spill_bytes"] / 1e9) for r in s],
         "#2ca02c", None),
    ]
    x = lambda t: left + (W - left - right) * t / t_max
    # The pass, as the report timed it (the samples' clock starts with the client, give or take a sample).
    part_end = run["partition_s"] or next((r["t_s"] for r in s if r["archived"] > 0), 0)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           f'font-family="sans-serif" font-size="12">', f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="22" text-anchor="middle" font-size="15">hubbatch archive, {run["pairs"]:,} pairs '
           f'unpaced end to end: {run["wall_s"]:.0f} s, {run["pairs_per_s"]:,.0f} pairs/s, peak RSS '
           f'{run["rss_mb"]:.1f} MB</text>']
    for k, (title, unit, pts, color, limit) in enumerate(series):
        y0 = top + k * (panel_h + gap)
        step = nice_step(max([v for _, v in pts] + [limit or 0]) * 1.05)
        v_max = step * math.ceil(max([v for _, v in pts] + [limit or 0]) * 1.05 / step) or step
        y = lambda v: y0 + panel_h - panel_h * v / v_max
        if part_end > 0:
            out.append(f'<rect x="{x(0):.1f}" y="{y0}" width="{x(part_end) - x(0):.1f}" height="{panel_h}" '
                       f'fill="#eeeeee"/>')
            if k == 0:
                out.append(f'<text x="{(x(0) + x(part_end)) / 2:.1f}" y="{y0 + 15}" text-anchor="middle" '
                           f'fill="#555">partition pass</text>')
        out.append(f'<rect x="{left}" y="{y0}" width="{W - left - right}" height="{panel_h}" fill="none" '
                   f'stroke="#888"/>')
        out.append(f'<text x="{left}" y="{y0 - 6}" font-size="13">{title}</text>')
        for i in range(round(v_max / step) + 1):  # y ticks
            v = step * i
            out.append(f'<text x="{left - 6}" y="{y(v) + 4:.1f}" text-anchor="end">{tick_label(v)}</text>')
            out.append(f'<line x1="{left}" x2="{W - right}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#ddd"/>')
        if limit:
            out.append(f'<line x1="{left}" x2="{W - right}" y1="{y(limit):.1f}" y2="{y(limit):.1f}" stroke="{color}" '
                       f'stroke-dasharray="6,4"/>')
            out.append(f'<text x="{W - right - 4}" y="{y(limit) - 4:.1f}" text-anchor="end" fill="{color}">target '
                       f'{limit} MB</text>')
        poly = " ".join(f"{x(t):.1f},{y(v):.1f}" for t, v in pts)
        out.append(f'<polyline points="{poly}" fill="none" stroke="{color}" stroke-width="1.5"/>')
    y_axis = top + 3 * (panel_h + gap) - gap
    step = next(st for st in (1, 2, 5, 10, 20, 30, 60, 120, 300, 600, 1200) if t_max / st <= 12)
    t = 0
    while t <= t_max:
        out.append(f'<text x="{x(t):.1f}" y="{y_axis + 16}" text-anchor="middle">{t}</text>')
        out.append(f'<line x1="{x(t):.1f}" x2="{x(t):.1f}" y1="{y_axis}" y2="{y_axis + 4}" stroke="#888"/>')
        t += step
    out.append(f'<text x="{W / 2}" y="{y_axis + 34}" text-anchor="middle">seconds since hubbatch started '
               f'(samples every second)</text>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")
    return True


def section(raw, out_dir=None):
    runs = load_runs(raw)
    if not runs:
        return []
    big = [r for r in runs if r["tag"] == "big"]
    ref = [r for r in runs if r["tag"] == "ref"]
    if out_dir and big:
        chart(big[0], os.path.join(out_dir, SVG))
    n_big = big[0]["pairs"] if big else 0
    big_rate, ref_rate = med([r["pairs_per_s"] for r in big]), med([r["pairs_per_s"] for r in ref])
    ratio = big_rate / ref_rate - 1 if ref_rate else 0
    peak_rss = max((r["rss_mb"] for r in runs), default=0)
    summary = {"big_pairs": n_big, "big_pairs_per_s": big_rate, "ref_pairs_per_s": ref_rate, "ratio": ratio,
               "peak_rss_mb": peak_rss, "spill_peak_bytes": max((r["spill_peak_bytes"] for r in big), default=0),
               "partition_s": med([r["partition_s"] for r in big]), "all_archived": all(r["ok"] for r in runs)}
    json.dump(summary, open(os.path.join(raw, "scale100m-summary.json"), "w"), indent=1)
    md = [f"{HEADING}: sandbox --seed-generated, --rate 0, {n_big:,} pairs", ""]
    md.append(
        f"Written by `bench/run.sh --only scale{' --quick' if n_big < 100_000_000 else ''}` (see `bench/README.md`) "
        f"from {big[0]['started'] if big else '?'}. One file of {n_big:,} pairs "
        f"({big[0]['csv_bytes'] / 1e9 if big else 0:.2f} GB CSV, `gen-pairs --keyed`) archived unpaced end to end, "
        f"the sandbox holding the same pairs as a generated seed; the 1,000,000-pair reference runs the same way, "
        f"before and after it. pairs/s = archived pairs / client wall time (partition pass included). Peak RSS "
        f"and CPU from `/usr/bin/time -v`; the time series from `bench/tools/scale_sample.py` (every second: "
        f"VmRSS, the metrics file's counters, the sizes of hubbatch's open partition files). Every run is checked: "
        f"report `input_pairs` = `archived_pairs` = N, nothing failed or pending, `invariant_ok`, sandbox "
        f"`remaining_pairs` 0.")
    md += ["", "| target | met | measured |", "|---|---|---|"]
    md.append(f"| peak RSS ≤ {RSS_TARGET_MB} MB | {'yes' if peak_rss <= RSS_TARGET_MB else '**no**'} | "
              f"{peak_rss:.1f} MB (worst run) |")
    md.append(f"| pairs/s within {RATIO_TARGET:.0%} of the 1M run | "
              f"{'yes' if ratio >= -RATIO_TARGET else '**no**'} | {ratio:+.1%} "
              f"({big_rate:,.0f} vs {ref_rate:,.0f}, medians) |")
    if big:
        b = big[0]
        md.append(f"| temporary disk stated and cleaned up | {'yes' if b['tmp_left'] == 0 else '**no**'} | peak "
                  f"{summary['spill_peak_bytes'] / 1e9:.2f} GB sampled, {b['partition_bytes'] / 1e9:.2f} GB written "
                  f"({b['partition_bytes'] / max(1, b['pairs']):.1f} bytes a pair) in {b['partition_files']:,} files; "
                  f"{b['tmp_left']} left in the temporary "
                  f"directory after the run |")
        md.append(f"| partition pass timed on its own | yes | {b['partition_s']:.1f} s of {b['wall_s']:.1f} s "
                  f"(report `partition.seconds`) |")
    md.append(f"| every pair archived | {'yes' if summary['all_archived'] else '**no**'} | "
              f"{sum(1 for r in runs if r['ok'])} of {len(runs)} runs check out |")
    md += ["", "| run | pairs | wall s | pairs/s | peak RSS MB | client CPU s | CPU s / M pairs | sandbox CPU s | "
               "sandbox peak RSS MB | partition s | partition files | temp disk peak GB | journal MB | requests | "
               "pairs left | load before → after | exit |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in runs:
        md.append(f"| {r['tag']}-{r['run']} | {r['pairs']:,} | {r['wall_s']:.1f} | {r['pairs_per_s']:,.0f} | "
                  f"{r['rss_mb']:.1f} | {r['cpu_s']:.1f} | {r['cpu_per_m']:.2f} | {r['sandbox_cpu_s']:.1f} | "
                  f"{r['sandbox_hwm_mb']:.0f} | {r['partition_s']:.1f} | {r['partition_files']:,} | "
                  f"{r['spill_peak_bytes'] / 1e9:.2f} | {r['journal_bytes'] / 1e6:.0f} | {r['requests']:,} | "
                  f"{r['left']} | {r['load_before']} → {r['load_after']} | {r['exit']} |")
    md += ["", f"![pairs/s, RSS and temporary disk over time of the {n_big:,}-pair run]({SVG})", ""]
    if out_dir:
        analysis = os.path.join(out_dir, "analysis-scale.md")
        if os.path.exists(analysis):
            md += ["### Analysis of the Scale run (hand-written, `bench/results/analysis-scale.md`)", "",
                   open(analysis).read().strip(), ""]
    return md


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--splice", action="store_true", help="rewrite the section of an existing latest.md")
    a = ap.parse_args()
    md = section(a.raw, a.out)
    if not a.splice:
        print("\n".join(md))
        return
    import summarize  # same directory
    path = os.path.join(a.out, "latest.md")
    text = open(path).read() if os.path.exists(path) else ""
    with open(path, "w") as f:
        f.write(summarize.splice_section(text, md, HEADING))


if __name__ == "__main__":
    main()
