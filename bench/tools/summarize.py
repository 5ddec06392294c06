#!/usr/bin/env python3
"""Turns bench/results/raw/ (runs.csv, per-run sandbox stats, the profile) into
bench/results/latest.md and the PNG charts. Called by bench/run.sh."""
import argparse
import csv
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
from collections import defaultdict

TOOL_NAMES = {
    "hubbatch": "hubbatch (defaults)",
    "hubbatch-gw": "hubbatch --group-window = input",
    "sdk": "Node SDK, DEFAULT_LIMITER_OPTIONS",
    "sdk-nolimit": "Node SDK, --no-limit",
    "hubbatch@unthrottled": "hubbatch on the Unthrottled input (reference, alternated)",
}
SCENARIOS = [
    ("professional", "Professional limit: sandbox --rate 190/10s"),
    ("free", "Free/Starter limit: sandbox --rate 100/10s"),
    ("unthrottled", "Unthrottled: sandbox --rate 0"),
    ("scale", "Scale: sandbox --rate 0"),
    ("faults", "Faults: sandbox --rate 0 --fault-5xx 0.05 --fault-reset 0.05"),
    ("shared", "Shared budget: sandbox --rate 190/10s, a second client at --rate 60/10s on the same token"),
]

# What each family of costs in the profile is, and what would cut it.
PROFILE_FAMILIES = [
    ("journal (default REPORT.journal; line-number records)",
     r"journal|encode_lines|put_varint|radix_sort<unsigned long|__introsort_loop<.*unsigned long|"
     r"__insertion_sort<.*unsigned long|_Function_handler<void \(std::span<hubbatch::pair_id",
     "each flush sorts the line numbers it records (every pair twice: once in a 'sent' record, once in a "
     "'settled' one) to delta-encode them, with a radix sort (engine/radix_sort.hpp); partitioned input reaches "
     "the journal in from-id order, not line order, so the sort has real work. Sorting each batch's lines once "
     "for both records, or dropping the 'sent' record for pairs settled in the same flush, would halve it."),
    ("grouping (pair_grouper: ring of groups, runs from grouped partitions)",
     r"pair_grouper|_Hashtable|pair_id_hash|_M_rehash",
     "partitions arrive grouped by from-id, so a pair joins its group without an index lookup (`add_runs`), "
     "and groups live in one reused ring; what is left is copying to-ids into the groups and out again into "
     "batches (`take`). Batches that point into the partition's records instead of copying would cut most of it."),
    ("partitioning (temporary files, regrouping by from-id)",
     r"_IO_fwrite|_IO_fread|_IO_file_|_IO_new_file|spill_files|feed_partitions|run_order|block_commit_write|"
     r"copy_folio_from_iter|filemap_|mark_buffer_dirty|drop_buffers|__lruvec_stat_mod_folio|memcg1_commit_charge|"
     r"ext4_|generic_perform_write|atime_needs_update|folio",
     "every pair written once (24 bytes) to a temporary partition and read back once, then regrouped by "
     "from-id in memory with a counting sort (inlined into `feed_partitions`). Skipping the spill when a sample "
     "of the file shows it already grouped by from-id would remove it for sorted exports; varint records would "
     "halve the I/O."),
    ("malloc/free", r"malloc|_int_free|cfree|free@|operator new|operator delete|unlink_chunk|consolidate|tcache",
     "groups no longer allocate (a reused ring, six to-ids inline); what is left is the batch and request "
     "buffers, OpenSSL's records and the groups with more than six to-ids; a per-session pool of batch "
     "vectors would remove most of it."),
    ("kernel (syscalls, TCP loopback, scheduling)", r"\[kernel|\[k\]",
     "one TLS write and one read per request; at ~400 pairs a request (2,500 requests per million pairs) the "
     "request count is already the minimum for --batch-size 100, so what is left is wake-ups and context "
     "switches (`finish_task_switch`), one journal write(2) per response (the journal's kill -9 guarantee), "
     "and the partition files' page cache."),
    ("TLS (OpenSSL)", r"libcrypto|libssl",
     "AES-GCM on the bodies plus per-record overhead; proportional to bytes sent, already near the floor for "
     "the request count."),
    ("HTTP + JSON codec (Beast, encode, simdjson)",
     r"beast|encode_archive_body|write_u64|simdjson|rate_limit_headers|count_inputs|http::",
     "serialising the bodies (about 30 bytes a pair; ids of 9 to 16 digits written eight digits at a time) and "
     "parsing response heads; what is left is proportional to the bytes of the bodies."),
    ("input parsing", r"parse_id|pair_parser|plain_line|read_digits|memchr|parse_delimited|process_line|on_pair",
     "plain lines are read in one pass, ids eight digits at a time; what is left is the per-pair virtual sink "
     "call and the copy into a partition buffer: a sink taking blocks of pairs would cut it."),
    ("process start-up (dynamic linking)", r"ld-linux|_dl_",
     "a fixed cost per run, not per pair (it looks per-pair here only because the profiled input is 200k "
     "pairs); static linking would remove it."),
    ("Asio scheduling", r"asio|any_io_executor|awaitable|co_spawn",
     "coroutine resumptions and executor copies per operation; small."),
]



def load_runs(raw):
    with open(os.path.join(raw, "runs.csv")) as f:
        return list(csv.DictReader(f))


def num(v):
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def agg(rows, key):
    vals = [num(r.get(key)) for r in rows if num(r.get(key)) is not None]
    if not vals:
        return None
    return statistics.median(vals), min(vals), max(vals), len(vals)


def fmt(a, digits=1, unit=""):
    if a is None:
        return "—"
    med, lo, hi, n = a
    f = "{:,.%df}" % digits
    s = f.format(med) + unit
    if n > 1:
        s += " (" + f.format(lo) + "–" + f.format(hi) + ")"
    return s


def sh(cmd):
    try:
        return subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=20).stdout.strip()
    except Exception:
        return ""


def machine(args):
    model = sh("lscpu | sed -n 's/^Model name: *//p' | head -1")
    mem = sh("awk '/MemTotal/ {printf \"%.1f GiB\", $2/1048576}' /proc/meminfo")
    sdk = "?"
    try:
        with open(os.path.join(args.peer, "node_modules/@hubspot/api-client/package.json")) as f:
            sdk = json.load(f)["version"]
    except (OSError, ValueError, KeyError):
        pass
    return [
        ("CPU", f"{model}, {sh('nproc')} CPUs online (`nproc`)"),
        ("memory", mem),
        ("kernel", platform.release()),
        ("hubbatch", sh(f"{args.hubbatch} --version") + f" (git {sh('git rev-parse --short HEAD')}, Release)"),
        ("Node.js", sh("node --version")),
        ("@hubspot/api-client", sdk + " (bench/peer/package-lock.json)"),
        ("date", sh("date -u +%Y-%m-%dT%H:%MZ")),
    ]


def tool_429(r):
    """429s that went to the tool under test (the shared scenario's background client's are left out)."""
    total = num(r["rate_limited"]) or 0
    bg = num(r.get("bg_rate_limited")) or 0
    return total - bg


def table(rows_by_tool, cols, names=None):
    head = "| tool | runs | " + " | ".join(c[0] for c in cols) + " |"
    sep = "|---|---|" + "---|" * len(cols)
    out = [head, sep]
    for tool, rows in rows_by_tool.items():
        cells = [(names or TOOL_NAMES).get(tool, tool), str(len(rows))]
        for _, fn in cols:
            cells.append(fn(rows))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def col(key, digits=1, unit=""):
    return lambda rows: fmt(agg(rows, key), digits, unit)


def col_429(rows):
    vals = [tool_429(r) for r in rows]
    return fmt((statistics.median(vals), min(vals), max(vals), len(vals)), 0)


def col_share(rows):
    vals = [num(r["share_after_first_window"]) for r in rows if num(r["share_after_first_window"]) is not None]
    if not vals:
        return "—"
    return fmt((statistics.median(vals) * 100, min(vals) * 100, max(vals) * 100, len(vals)), 1, "%")


def col_pairs_per_req(rows):
    vals = [num(r["archived_pairs"]) / num(r["client_requests"]) for r in rows
            if num(r["client_requests"]) and num(r["archived_pairs"]) is not None]
    return fmt((statistics.median(vals), min(vals), max(vals), len(vals)), 0) if vals else "—"


def col_requests(rows):
    vals = [(num(r["requests"]) or 0) - (num(r.get("bg_requests")) or 0) for r in rows]
    return fmt((statistics.median(vals), min(vals), max(vals), len(vals)), 0)


def col_exit(rows):
    return ",".join(r["exit"] for r in rows)


COMMON = [
    ("pairs/s", col("pairs_per_s", 0)),
    ("wall s", col("wall_s", 1)),
    ("requests", col_requests),
    ("pairs/request", col_pairs_per_req),
    ("429s", col_429),
]
RATED = COMMON + [
    ("rate used after 1st window", col_share),
    ("max req in any window", col("max_requests_in_window", 0)),
    ("pairs left", col("remaining_pairs", 0)),
    ("client CPU s", col("cpu_s", 2)),
    ("peak RSS MB", col("peak_rss_mb", 1)),
    ("sandbox CPU s", col("sandbox_cpu_s", 2)),
    ("exit", col_exit),
]
UNRATED = COMMON + [
    ("load avg", col("loadavg", 1)),
    ("client CPU s / M pairs", col("cpu_s_per_m_pairs", 2)),
    ("client CPU s", col("cpu_s", 2)),
    ("peak RSS MB", col("peak_rss_mb", 1)),
    ("sandbox CPU s", col("sandbox_cpu_s", 2)),
    ("pairs left", col("remaining_pairs", 0)),
    ("exit", col_exit),
]
FAULTS = COMMON + [
    ("faults injected", col("faults_injected", 0)),
    ("pairs left", col("remaining_pairs", 0)),
    ("client CPU s", col("cpu_s", 2)),
    ("peak RSS MB", col("peak_rss_mb", 1)),
    ("exit", col_exit),
]
SHARED = COMMON + [
    ("share of the remaining budget after 1st window", col_share),
    ("background client's 429s", col("bg_rate_limited", 0)),
    ("background rate req/s", col("bg_rate_per_s", 2)),
    ("max req in any window", col("max_requests_in_window", 0)),
    ("exit", col_exit),
]


def med(rows, key):
    a = agg(rows, key)
    return a[0] if a else None


def worst_share(rows):
    vals = [num(r["share_after_first_window"]) for r in rows]
    if any(v is None for v in vals):
        return None, "n/a: the run ended within its first two windows"
    return min(vals) >= 0.97, f"{min(vals) * 100:.1f}% (worst run)"


def targets(by):
    """[(scenario, target, met?, measured)]"""
    out = []
    g = lambda s, t: by.get(s, {}).get(t, [])
    hb, sdk = g("professional", "hubbatch"), g("professional", "sdk")
    if hb and sdk:
        ratio = med(hb, "pairs_per_s") / med(sdk, "pairs_per_s")
        out.append(("professional", "≥ 2× the SDK's pairs/s", ratio >= 2, f"{ratio:.2f}×"))
        out.append(("professional", "≥ 97% of the allowed rate after the first window", *worst_share(hb)))
        n429 = sum(tool_429(r) for r in hb)
        out.append(("professional", "zero 429", n429 == 0, f"{n429:.0f} over {len(hb)} runs"))
    hb, sdk = g("free", "hubbatch"), g("free", "sdk")
    if hb and sdk:
        out.append(("free", "≥ 97% of the allowed rate", *worst_share(hb)))
        n429 = sum(tool_429(r) for r in hb)
        out.append(("free", "zero 429", n429 == 0, f"{n429:.0f} over {len(hb)} runs"))
        ratio = med(hb, "pairs_per_s") / med(sdk, "pairs_per_s")
        out.append(("free", "faster than the SDK", ratio > 1, f"{ratio:.2f}×"))
    hb, sdk = g("unthrottled", "hubbatch"), g("unthrottled", "sdk-nolimit")
    if hb and sdk:
        ratio = med(sdk, "cpu_s_per_m_pairs") / med(hb, "cpu_s_per_m_pairs")
        out.append(("unthrottled", "≤ 1/20 of the SDK's CPU per million pairs", ratio >= 20,
                    f"1/{ratio:.1f} ({med(hb, 'cpu_s_per_m_pairs'):.2f} vs {med(sdk, 'cpu_s_per_m_pairs'):.2f} s)"))
        rss = max(num(r["peak_rss_mb"]) for r in hb)
        out.append(("unthrottled", "peak RSS ≤ 64 MB", rss <= 64, f"{rss:.1f} MB (worst run)"))
    # The 1M reference alternated with the 10M runs when present, else the Unthrottled runs.
    sc, un = g("scale", "hubbatch"), g("scale", "hubbatch@unthrottled") or g("unthrottled", "hubbatch")
    if sc:
        rss = max(num(r["peak_rss_mb"]) for r in sc)
        out.append(("scale", "peak RSS ≤ 64 MB", rss <= 64, f"{rss:.1f} MB (worst run)"))
        if un:
            d = med(sc, "pairs_per_s") / med(un, "pairs_per_s") - 1
            out.append(("scale", "pairs/s within 10% of the 1M run", abs(d) <= 0.10 or d > 0, f"{d * 100:+.1f}%"))
    hb = g("faults", "hubbatch")
    if hb:
        left = max(num(r["remaining_pairs"]) for r in hb)
        out.append(("faults", "zero pairs left", left == 0, f"{left:.0f} (worst run)"))
    hb = g("shared", "hubbatch")
    if hb:
        n429 = [tool_429(r) for r in hb]
        shares = [num(r["share_after_first_window"]) for r in hb if num(r["share_after_first_window"]) is not None]
        share = f"{statistics.median(shares) * 100:.1f}%" if shares else "n/a (run shorter than two windows)"
        out.append(("shared", "adapts through the headers with few 429s", max(n429) <= 5,
                    f"{statistics.median(n429):.0f} 429s (max {max(n429):.0f}); {share} of the remaining budget"))
    return out


def series(raw, scenario, tool, run):
    st = json.load(open(os.path.join(raw, f"{scenario}-{tool}-{run['run']}.stats.json")))
    rps = st.get("requests_per_second", [])
    start = int(run["start_s"])
    end = min(len(rps), start + int(float(run["wall_s"])) + 2)
    return rps[start:end]


def median_run(rows):
    rows = sorted(rows, key=lambda r: num(r["pairs_per_s"]) or 0)
    return rows[len(rows) // 2]


def gnuplot(script):
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


def chart_rate(raw, out, by, scenario, limit, title, png):
    tools = [t for t in ("hubbatch", "sdk", "hubbatch-gw") if by.get(scenario, {}).get(t)]
    if not tools:
        return None
    dat = os.path.join(raw, f"{scenario}-rps.dat")
    per_s = {t: series(raw, scenario, t, median_run(by[scenario][t])) for t in tools}
    # Trailing 10 s mean: what the rolling window limits, and legible for a
    # client that sends a window's allowance in one burst.
    cols = {t: [sum(v[max(0, i - 9):i + 1]) / 10.0 for i in range(len(v))] for t, v in per_s.items()}
    n = max(len(v) for v in cols.values())
    with open(dat, "w") as f:
        f.write("# second, then per tool: accepted requests in that second and the trailing 10 s mean "
                "(seconds since the client started): " + " ".join(tools) + "\n")
        for i in range(n):
            f.write(f"{i} " + " ".join(f"{per_s[t][i]} {cols[t][i]:.2f}" if i < len(cols[t]) else "NaN NaN"
                                       for t in tools) + "\n")
    style = {"hubbatch": "lw 3 lc rgb '#1f77b4'", "sdk": "lw 3 lc rgb '#ff7f0e'",
             "hubbatch-gw": "lw 3 dt (6,4) lc rgb '#2ca02c'"}
    plots = [f"{limit} with lines dt 2 lw 1.5 lc rgb 'red' title 'limit ({limit * 10:.0f} per 10 s)'"]
    plots += [f"'{dat}' using 1:{2 * i + 3} with lines {style[t]} title '{TOOL_NAMES[t]}'"
              for i, t in enumerate(tools)]
    gnuplot(f"""
set terminal pngcairo size 1000,560 font 'DejaVu Sans,11' noenhanced
set output '{os.path.join(out, png)}'
set title '{title}'
set xlabel 'seconds since the client started'
set ylabel 'requests accepted per second (trailing 10 s mean)'
set yrange [0:{limit * 1.5:.0f}]
set key bottom right opaque box
set grid
plot {', '.join(plots)}
""")
    return png


def chart_cpu(raw, out, by, png):
    rows = []
    for s, _ in SCENARIOS:
        if s == "shared":
            continue
        hb = by.get(s, {}).get("hubbatch")
        sdk = by.get(s, {}).get("sdk") or by.get(s, {}).get("sdk-nolimit")
        if not hb:
            continue
        rows.append((s, med(hb, "cpu_s_per_m_pairs"), med(sdk, "cpu_s_per_m_pairs") if sdk else None))
    dat = os.path.join(raw, "cpu-per-million.dat")
    with open(dat, "w") as f:
        f.write("# scenario hubbatch sdk  (client user+sys CPU seconds per million input pairs, medians)\n")
        for s, h, n in rows:
            f.write(f"{s} {h:.3f} {n if n is not None else 'NaN'}\n")
    gnuplot(f"""
set terminal pngcairo size 1000,560 font 'DejaVu Sans,11' noenhanced
set output '{os.path.join(out, png)}'
set title 'Client CPU (user+sys) per million pairs, median of the runs'
set ylabel 'CPU seconds per million pairs'
set xlabel 'scenario'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set key outside top center horizontal
set grid ytics
set yrange [0:*]
plot '{dat}' using 2:xtic(1) title 'hubbatch' lc rgb '#1f77b4', \
     '' using 3 title '@hubspot/api-client' lc rgb '#ff7f0e', \
     '' using ($0-0.15):($2):(sprintf('%.2f',$2)) with labels offset 0,0.8 notitle, \
     '' using ($0+0.15):($3):(sprintf('%.2f',$3)) with labels offset 0,0.8 notitle
""")
    return png


def profile_section(raw):
    path = os.path.join(raw, "profile.txt")
    if not os.path.exists(path):
        return "No profile was taken."
    tool = open(os.path.join(raw, "profile.tool")).read().strip() if os.path.exists(
        os.path.join(raw, "profile.tool")) else "?"
    rep = json.load(open(os.path.join(raw, "profile.report.json"))) if os.path.exists(
        os.path.join(raw, "profile.report.json")) else {}
    pairs = rep.get("input_pairs") or 0
    text = open(path).read()
    total_ns = None
    m = re.search(r"Event count \(approx\.\): (\d+)", text)
    if m:
        total_ns = int(m.group(1))
    fam = defaultdict(float)
    top_sym = defaultdict(list)
    for line in text.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[[.k]\]\s+(.*)", line)
        if not m:
            continue
        pct, dso, sym = float(m.group(1)), m.group(2), m.group(3).strip().rstrip(" -")
        key = f"{dso} {sym}"
        name = "other"
        for fname, rx, _ in PROFILE_FAMILIES:
            if re.search(rx, key):
                name = fname
                break
        fam[name] += pct
        if len(top_sym[name]) < 3 and pct >= 0.3:
            top_sym[name].append(f"`{sym[:60]}` {pct:.1f}%")
    notes = {f: n for f, _, n in PROFILE_FAMILIES}
    cpu_s = total_ns / 1e9 if total_ns else None
    lines = [
        f"hubbatch, unthrottled sandbox, {pairs:,} pairs (default flags, --rate 0), sampled with {tool}. "
        + (f"The samples add up to {cpu_s:.2f} CPU s, {cpu_s / pairs * 1e6:.2f} s per million pairs. "
           if cpu_s and pairs else ""),
        "",
        "| # | cost | share of samples | CPU s per million pairs | top symbols | what would cut it |",
        "|---|---|---|---|---|---|",
    ]
    ranked = sorted(((v, k) for k, v in fam.items() if k != "other"), reverse=True)[:5]
    for i, (pct, name) in enumerate(ranked, 1):
        per_m = f"{cpu_s * pct / 100 / pairs * 1e6:.2f}" if cpu_s and pairs else "—"
        lines.append(f"| {i} | {name} | {pct:.1f}% | {per_m} | {'; '.join(top_sym[name])} | {notes.get(name, '')} |")
    if "other" in fam:
        lines.append(f"\nUnclassified symbols: {fam['other']:.1f}% of the samples. Raw listing: `raw/profile.txt`.")
    return "\n".join(lines)


# ------------------------------------------------------------ Create section
CREATE_SCENARIOS = [
    ("create", "At the limit: sandbox --rate 190/10s"),
    ("create-unpaced", "Unpaced: sandbox --rate 0"),
]


def col_req_rate_share(rows):
    """Accepted requests per second over the whole run (first window included) / the limit."""
    vals = []
    for r in rows:
        limit = record_limit(r["sandbox_rate"])
        if limit and num(r["wall_s"]):
            vals.append((num(r["accepted"]) or 0) / num(r["wall_s"]) / limit * 100)
    return fmt((statistics.median(vals), min(vals), max(vals), len(vals)), 1, "%") if vals else "—"


def record_limit(rate):
    m = re.fullmatch(r"(\d+)/(\d+)(ms|s)", rate or "")
    if not m:
        return 0.0
    n, w, unit = int(m.group(1)), int(m.group(2)), m.group(3)
    return n / (w / 1000.0 if unit == "ms" else w)


def col_listing(rows):
    return ",".join(r.get("listing_ok") or "?" for r in rows)


CREATE_COMMON = [
    ("pairs/s", col("pairs_per_s", 0)),
    ("wall s", col("wall_s", 1)),
    ("requests", col_requests),
    ("pairs/request", col_pairs_per_req),
    ("429s", col_429),
]
CREATE_RATED = CREATE_COMMON + [
    ("accepted req/s ÷ limit, whole run", col_req_rate_share),
    ("rate used after 1st window", col_share),
    ("max req in any window", col("max_requests_in_window", 0)),
    ("client CPU s", col("cpu_s", 2)),
    ("peak RSS MB", col("peak_rss_mb", 1)),
    ("sandbox CPU s", col("sandbox_cpu_s", 2)),
    ("load avg", col("loadavg", 1)),
    ("listing lines", col("listing_lines", 0)),
    ("listing = input", col_listing),
    ("exit", col_exit),
]
CREATE_UNRATED = CREATE_COMMON + [
    ("client CPU s", col("cpu_s", 2)),
    ("client CPU s / M pairs", col("cpu_s_per_m_pairs", 2)),
    ("peak RSS MB", col("peak_rss_mb", 1)),
    ("sandbox CPU s", col("sandbox_cpu_s", 2)),
    ("load avg", col("loadavg", 1)),
    ("listing lines", col("listing_lines", 0)),
    ("listing = input", col_listing),
    ("exit", col_exit),
]


def create_targets(by):
    out = []
    g = lambda s, t: by.get(s, {}).get(t, [])
    hb, sdk = g("create", "hubbatch"), g("create", "sdk")
    if hb:
        shares = [(num(r["accepted"]) or 0) / num(r["wall_s"]) / record_limit(r["sandbox_rate"]) for r in hb]
        out.append(("≥ 97% of 190/10 s (accepted requests/s ÷ 19, whole run)", min(shares) >= 0.97,
                    f"{min(shares) * 100:.1f}% (worst run), median {statistics.median(shares) * 100:.1f}%"))
        n429 = sum(tool_429(r) for r in hb)
        out.append(("zero 429 at the limit", n429 == 0, f"{n429:.0f} over {len(hb)} runs"))
    if hb and sdk:
        ratio = med(hb, "pairs_per_s") / med(sdk, "pairs_per_s")
        out.append(("≥ 2× the SDK's pairs/s at the limit", ratio >= 2,
                    f"{ratio:.2f}× ({med(hb, 'pairs_per_s'):,.0f} vs {med(sdk, 'pairs_per_s'):,.0f} pairs/s)"))
    hb_u, sdk_u = g("create-unpaced", "hubbatch"), g("create-unpaced", "sdk-nolimit")
    if hb_u and sdk_u:
        ratio = med(sdk_u, "cpu_s") / med(hb_u, "cpu_s")
        out.append(("≤ 1/20 of the SDK's CPU time unpaced", ratio >= 20,
                    f"1/{ratio:.1f} ({med(hb_u, 'cpu_s'):.2f} vs {med(sdk_u, 'cpu_s'):.2f} CPU s)"))
    allhb = hb + hb_u
    if allhb:
        rss = max(num(r["peak_rss_mb"]) for r in allhb)
        out.append(("hubbatch peak RSS ≤ 64 MB", rss <= 64, f"{rss:.1f} MB (worst of {len(allhb)} runs)"))
    allruns = [r for s, _ in CREATE_SCENARIOS for rows in by.get(s, {}).values() for r in rows]
    if allruns:
        bad = [f"{r['scenario']}/{r['tool']}/{r['run']}" for r in allruns if r.get("listing_ok") != "yes"]
        lines = sorted({r.get("listing_lines") for r in allruns})
        out.append(("every run leaves exactly the input's pairs and labels (sorted listing = expected)", not bad,
                    f"{len(allruns) - len(bad)}/{len(allruns)} runs; listing lines: {', '.join(lines)}"
                    + (f"; mismatched: {', '.join(bad)}" if bad else "")))
    return out


def create_section(args, runs):
    by = defaultdict(lambda: defaultdict(list))
    for r in runs:
        by[r["scenario"]][r["tool"]].append(r)
    if not any(s in by for s, _ in CREATE_SCENARIOS):
        return []
    pairs = int(next(iter(next(by[s] for s, _ in CREATE_SCENARIOS if s in by).values()))[0]["input_pairs"])
    m = dict(machine(args))
    md = [f"## Create: labelled associations, contacts→companies, {pairs:,} pairs", ""]
    md.append(
        f"Written by `bench/run.sh{' --quick' if args.mode == 'quick' else ''}"
        f"{' --only create' if args.only == 'create' else ''}` at {m['date']}: hubbatch {m['hubbatch']}, "
        f"Node.js {m['Node.js']}, @hubspot/api-client {m['@hubspot/api-client']}, {m['CPU']}. "
        "Medians of the runs, min–max in brackets; the tools alternated run by run, each against a fresh, "
        "empty sandbox (`--labels` defining USER_DEFINED 36 \"Billing contact\"; Primary, HUBSPOT_DEFINED 1, "
        "is built in). Input `bench/data/create.csv` (gen-pairs seed 7): `from_id,to_id,category,type_id`, every "
        "other line HUBSPOT_DEFINED,1 and USER_DEFINED,36. hubbatch: `hubbatch create` with its defaults "
        "(`--rate auto` at the limit, `--rate 0` unpaced); SDK: `bench/peer/sdk-create.mjs` "
        "(`batchApi.create`, chunks of 100, `DEFAULT_LIMITER_OPTIONS`, or `--no-limit` unpaced). The sandbox "
        "answers the spec's 201, which SDK 13.5.0 accepts; it throws on HubSpot's 200 (see below). After every "
        "run the sandbox's `/_sandbox/pairs?from=contacts&to=companies&labels=1` (one line per type: each pair's "
        "unlabelled 279 and its label) is sorted and compared with the listing the input implies "
        "(\"listing = input\"). Raw figures: `raw/create-runs.csv`, `raw/create*.stats.json`, "
        "`raw/create*.report.json`.")
    md += ["", "| target | met | measured |", "|---|---|---|"]
    for t, ok, meas in create_targets(by):
        md.append(f"| {t} | {'yes' if ok else '**no**'} | {meas} |")
    md.append("")
    for s, title in CREATE_SCENARIOS:
        if s in by:
            md += [f"### {title}", "", table(by[s], CREATE_RATED if s == "create" else CREATE_UNRATED), ""]
    notes = os.path.join(args.out, "analysis-create.md")
    if os.path.exists(notes):
        md += [open(notes).read().strip(), ""]
    return md


# ------------------------------------------------------------ Export section
EXPORT_SCENARIOS = [
    ("export", "Export at the limit: sandbox --rate 190/10s"),
    ("export-unpaced", "Export unpaced: sandbox --rate 0"),
    ("export-archive", "Archive of the export's pairs, with and without --backup: sandbox --rate 190/10s"),
    ("export-archive4", "Archive, exactly 4 to-ids per from-id, with and without --backup: sandbox --rate 190/10s"),
]
EXPORT_NAMES = {
    "hubbatch": "hubbatch",
    "hubbatch-backup": "hubbatch --backup",
    "sdk": "Node SDK getPage, DEFAULT_LIMITER_OPTIONS",
    "sdk-nolimit": "Node SDK getPage, --no-limit",
}


def col_ratio(num_key, den_key, digits=0):
    def f(rows):
        vals = [num(r[num_key]) / num(r[den_key]) for r in rows if num(r.get(num_key)) is not None and num(r.get(den_key))]
        return fmt((statistics.median(vals), min(vals), max(vals), len(vals)), digits) if vals else "—"
    return f


def col_sum_requests(rows):
    """archive: the client's own requests (report) plus its backup's reads."""
    vals = [(num(r["client_requests"]) or 0) + (num(r.get("backup_requests")) or 0) for r in rows]
    return fmt((statistics.median(vals), min(vals), max(vals), len(vals)), 0)


EXPORT_COMMON = [
    ("associations/s", col("pairs_per_s", 0)),
    ("wall s", col("wall_s", 1)),
    ("requests", col("requests", 0)),
    ("associations/request", col_ratio("archived_pairs", "requests")),
    ("429s", col("rate_limited", 0)),
]
EXPORT_TAIL = [
    ("client CPU s", col("cpu_s", 2)),
    ("peak RSS MB", col("peak_rss_mb", 1)),
    ("sandbox CPU s", col("sandbox_cpu_s", 2)),
    ("load avg", col("loadavg", 1)),
    ("rows written", col("listing_lines", 0)),
    ("export = listing", col_listing),
    ("exit", col_exit),
]
EXPORT_RATED = EXPORT_COMMON + [("max req in any window (labelling burst included)", col("max_requests_in_window", 0))] + EXPORT_TAIL
EXPORT_UNRATED = EXPORT_COMMON + EXPORT_TAIL
ARCHIVE_COLS = [
    ("pairs/s", col("pairs_per_s", 0)),
    ("wall s", col("wall_s", 1)),
    ("requests (sandbox)", col("requests", 0)),
    ("of which reads", col("read_requests", 0)),
    ("archive + backup requests (report)", col_sum_requests),
    ("429s", col("rate_limited", 0)),
    ("client CPU s", col("cpu_s", 2)),
    ("peak RSS MB", col("peak_rss_mb", 1)),
    ("pairs left", col("remaining_pairs", 0)),
    ("backup rows", col("listing_lines", 0)),
    ("backup = listing", lambda rows: col_listing(rows) if any(r.get("listing_ok") for r in rows) else "—"),
    ("load avg", col("loadavg", 1)),
    ("exit", col_exit),
]


def backup_overhead(by, scenario):
    """(median requests with --backup / without - 1, the two medians), or None."""
    ok = lambda rows: [r for r in rows if r["exit"] == "0"]
    plain = ok(by.get(scenario, {}).get("hubbatch", []))
    backup = ok(by.get(scenario, {}).get("hubbatch-backup", []))
    if not plain or not backup:
        return None
    a, b = med(plain, "requests"), med(backup, "requests")
    wa, wb = med(plain, "wall_s"), med(backup, "wall_s")
    reads = med(backup, "read_requests") or 0
    return b / a - 1, a, b, wb / wa - 1, wa, wb, reads / a


def export_targets(by):
    out = []
    g = lambda s, t: by.get(s, {}).get(t, [])
    hb = g("export", "hubbatch") + g("export-unpaced", "hubbatch")
    if hb:
        rss = max(num(r["peak_rss_mb"]) for r in hb)
        out.append(("hubbatch export peak RSS ≤ 64 MB", rss <= 64, f"{rss:.1f} MB (worst of {len(hb)} runs)"))
    runs = [r for s in ("export", "export-unpaced") for rows in by.get(s, {}).values() for r in rows]
    if runs:
        bad = [f"{r['scenario']}/{r['tool']}/{r['run']} ({r.get('listing_ok') or '?'})" for r in runs
               if r.get("listing_ok") != "yes"]
        out.append(("every export = the sandbox's labelled listing, as a set", not bad,
                    ("PASS" if not bad else "FAIL") + f": {len(runs) - len(bad)}/{len(runs)} runs"
                    + (f"; mismatched: {', '.join(bad)}" if bad else "")))
    o = backup_overhead(by, "export-archive4")
    if o:
        out.append(("archive --backup ≤ 15% more requests than archive alone, 4 to-ids per from-id", o[0] <= 0.15,
                    f"+{o[0] * 100:.1f}% ({o[2]:,.0f} vs {o[1]:,.0f} requests at the sandbox, 429s included; "
                    f"the backup's reads alone +{o[6] * 100:.1f}%); wall +{o[3] * 100:.1f}%"))
    bk = [r for s in ("export-archive", "export-archive4") for r in g(s, "hubbatch-backup")]
    if bk:
        rss = max(num(r["peak_rss_mb"]) for r in bk)
        out.append(("hubbatch archive --backup peak RSS ≤ 64 MB (the same reads as export)", rss <= 64,
                    f"{rss:.1f} MB (worst of {len(bk)} runs)"))
        bad = [f"{r['scenario']}/{r['run']}" for r in bk if r.get("listing_ok") != "yes"]
        out.append(("every backup = the pairs' labelled listing before the archive", not bad,
                    f"{len(bk) - len(bad)}/{len(bk)} runs" + (f"; mismatched: {', '.join(bad)}" if bad else "")))
    return out


def export_section(args, runs):
    by = defaultdict(lambda: defaultdict(list))
    for r in runs:
        by[r["scenario"]][r["tool"]].append(r)
    if not any(s in by for s, _ in EXPORT_SCENARIOS):
        return []
    m = dict(machine(args))
    first = lambda s: next(iter(by[s].values()))[0] if s in by else None
    x, x4 = first("export") or first("export-archive"), first("export-archive4")
    md = ["## Export: reading associations back (batch/read), contacts→companies", ""]
    md.append(
        f"Written by `bench/run.sh{' --quick' if args.mode == 'quick' else ''}"
        f"{' --only export' if args.only == 'export' else ''}` at {m['date']}: hubbatch {m['hubbatch']}, "
        f"Node.js {m['Node.js']}, @hubspot/api-client {m['@hubspot/api-client']}, {m['CPU']}. "
        "Medians of the runs, min–max in brackets; the tools alternated run by run, each against a fresh "
        "sandbox seeded with the data set (`bench/tools/gen_export.py`: "
        + (f"{int(x['input_pairs']):,} pairs" if x else "?")
        + ", most records with 3 or 4 to-ids and a few with 1,000–3,000, i.e. 2–6 pages at the sandbox's "
        "`--read-page-size 500`"
        + (f"; the 4-per-record set {int(x4['input_pairs']):,} pairs" if x4 else "")
        + "). Before each run about 1% of the pairs (the first pair of every 50th record and every pair of two "
        "of the large records) get USER_DEFINED 36 with `hubbatch create`, then the 10 s window is let empty; "
        "those requests are not counted. hubbatch: `hubbatch export --rate 190/10s` (or `--rate 0`), "
        "`archive --rate 190/10s [--backup FILE]`; SDK: `bench/peer/sdk-export.mjs` "
        "(`batchApi.getPage`, 1,000 ids a request, later pages by `paging.next.after` in rounds). "
        "\"export = listing\": the export's rows (from,to,category,type_id), sorted, equal the sandbox's "
        "`/_sandbox/pairs?labels=1`, which must itself equal the data set's expected listing. "
        "associations/s = associations read / the client's wall time; requests are the sandbox's, reads "
        "included. Raw figures: `raw/export-runs.csv`, `raw/export*.stats.json`, `raw/export*.report.json`.")
    md += ["", "| target | met | measured |", "|---|---|---|"]
    for t, ok, meas in export_targets(by):
        md.append(f"| {t} | {'yes' if ok else '**no**'} | {meas} |")
    md.append("")
    g = lambda s, t: by.get(s, {}).get(t, [])
    ratios = []
    for s, sdk in (("export", "sdk"), ("export-unpaced", "sdk-nolimit")):
        hb, sd = g(s, "hubbatch"), g(s, sdk)
        if hb and sd:
            if any(r.get("listing_ok") != "yes" for r in hb):
                ratios.append(f"{s}: hubbatch did not export everything (\"export = listing\" is no); "
                              "its associations/s counts only what it did read")
            ratios.append(f"{s}: hubbatch {med(hb, 'pairs_per_s') / med(sd, 'pairs_per_s'):.2f}× the SDK's "
                          f"associations/s, 1/{med(sd, 'cpu_s') / med(hb, 'cpu_s'):.1f} of its CPU, "
                          f"1/{med(sd, 'peak_rss_mb') / med(hb, 'peak_rss_mb'):.1f} of its peak RSS, "
                          f"{med(hb, 'requests') / med(sd, 'requests'):.2f}× its requests")
    for s in ("export-archive", "export-archive4"):
        o = backup_overhead(by, s)
        failed = [r for r in g(s, "hubbatch-backup") if r["exit"] != "0"]
        if failed:
            ratios.append(f"{s}: {len(failed)} of {len(g(s, 'hubbatch-backup'))} --backup runs failed (exit "
                          f"{','.join(r['exit'] for r in failed)}, {failed[0]['remaining_pairs']} pairs left: "
                          "nothing archived), so their overhead is not computed")
        if o:
            ratios.append(f"{s}: --backup adds {o[0] * 100:.1f}% requests ({o[2]:,.0f} vs {o[1]:,.0f}; its reads "
                          f"alone {o[6] * 100:.1f}%) and "
                          f"{o[3] * 100:.1f}% wall time ({o[5]:.1f} vs {o[4]:.1f} s)")
    if ratios:
        md += ["Ratios of the medians:", ""] + [f"- {r}" for r in ratios] + [""]
    for s, title in EXPORT_SCENARIOS:
        if s in by:
            n = int(first(s)["input_pairs"])
            cols = EXPORT_RATED if s == "export" else EXPORT_UNRATED if s == "export-unpaced" else ARCHIVE_COLS
            md += [f"### {title}, {n:,} pairs", "", table(by[s], cols, EXPORT_NAMES), ""]
    notes = os.path.join(args.out, "analysis-export.md")
    if os.path.exists(notes):
        md += [open(notes).read().strip(), ""]
    return md


# ------------------------------------------------------------ Pace sections (issue 15)
PACE_NAMES = {
    "hubbatch": "hubbatch (defaults)",
    "hubbatch-bs100": "hubbatch --batch-size 100",
    "sdk": "Node SDK, DEFAULT_LIMITER_OPTIONS",
    "sdk-nolimit": "Node SDK, --no-limit (once: its 429 SECONDLY handling)",
}
EXEMPT_CAPACITY = 60.0
STEADY_FROM_S = 20  # steady state: from this second of the client's run to its last full second but one


def raw_json(raw, tag, ext):
    return load_json_file(os.path.join(raw, f"{tag}.{ext}"))


def load_json_file(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def pace_tag(r):
    return f"{r['scenario']}-{r['tool']}-{r['run']}"


def pace_samples(raw, tag):
    """The sampler's rows (bench/tools/sample_stats.py) as dicts of floats."""
    try:
        with open(os.path.join(raw, f"{tag}.samples.csv")) as f:
            return [{k: num(v) for k, v in row.items()} for row in csv.DictReader(f)]
    except OSError:
        return []


def pace_uptime(raw, tag):
    """(load average before, after, t_start, t_end) from TAG.uptime.txt."""
    try:
        lines = open(os.path.join(raw, f"{tag}.uptime.txt")).read().splitlines()
    except OSError:
        return None, None, None, None
    loads = [re.search(r"load average: ([\d.]+)", l) for l in lines]
    loads = [float(m.group(1)) for m in loads if m]
    t = re.search(r"t_start ([\d.]+) t_end ([\d.]+)", "\n".join(lines))
    return (loads[0] if loads else None, loads[1] if len(loads) > 1 else None,
            float(t.group(1)) if t else None, float(t.group(2)) if t else None)


def pace_log(raw, tag, t_start):
    """hubbatch's JSON log: [(seconds since the client started, msg)]."""
    out = []
    try:
        with open(os.path.join(raw, f"{tag}.log.jsonl")) as f:
            for line in f:
                try:
                    o = json.loads(line)
                except ValueError:
                    continue
                ts = o.get("ts", "")
                try:
                    t = datetime.datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                        tzinfo=datetime.timezone.utc).timestamp()
                except ValueError:
                    t = None
                out.append(((t - t_start) if (t is not None and t_start) else None, o.get("msg", "")))
    except OSError:
        pass
    return out


def pace_trace(raw, r):
    """Per second of the client's run: accepted requests (the sandbox's series), requests
    and 429s (the sampler's differences), the adaptive pace in force (hubbatch's progress
    lines) and the delay the sandbox adds at that rate (its --capacity model, 200 ms at u = 1)."""
    tag = pace_tag(r)
    st = raw_json(raw, tag, "stats.json")
    rps = st.get("requests_per_second", [])
    start = int(r["start_s"])
    wall = num(r["wall_s"]) or 0
    n = int(wall) + 1
    acc = [rps[start + i] if start + i < len(rps) else 0 for i in range(n)]
    _, _, t0, _ = pace_uptime(raw, tag)
    req = [0] * n
    r429 = [0] * n
    s = pace_samples(raw, tag)
    if t0:
        for a, b in zip(s, s[1:]):
            i = int((a["t"] + b["t"]) / 2 - t0)
            if 0 <= i < n:
                req[i] += (b["requests"] or 0) - (a["requests"] or 0)
                r429[i] += (b["rate_limited"] or 0) - (a["rate_limited"] or 0)
    pace = [None] * n
    for t, msg in pace_log(raw, tag, t0):
        m = re.search(r"pace adaptive ([\d.]+) req/s", msg)
        if m and t is not None and 0 <= int(t) < n:
            pace[int(t)] = float(m.group(1))
    delay = [200.0 * max(0.0, (a / EXEMPT_CAPACITY - 0.75) / 0.25) ** 2 for a in acc]
    return acc, req, r429, pace, delay


def steady(raw, r):
    """Figures of the steady state (seconds STEADY_FROM_S .. last full second but one)."""
    acc, req, r429, _, _ = pace_trace(raw, r)
    hi = max(STEADY_FROM_S, len(acc) - 2)
    a = acc[STEADY_FROM_S:hi]
    if not a:
        return None
    q, z = sum(req[STEADY_FROM_S:hi]), sum(r429[STEADY_FROM_S:hi])
    srt = sorted(a)
    return {"mean": sum(a) / len(a), "median": statistics.median(a), "min": srt[0], "max": srt[-1],
            "p10": srt[len(srt) // 10], "seconds": len(a), "share_ge_90": sum(1 for v in a if v >= 0.9 * EXEMPT_CAPACITY) / len(a),
            "req_per_s": q / len(a), "r429": z, "r429_share": z / q if q else 0.0}


def pace_lost(raw, r):
    """(pairs not created per the client's report, the check's text)."""
    rep = raw_json(raw, pace_tag(r), "report.json")
    st = raw_json(raw, pace_tag(r), "stats.json")
    inp = int(r["input_pairs"])
    created = int(rep.get("created_pairs", 0))
    failed = int(rep.get("failed_pairs", 0) or 0)
    pending = int(rep.get("pending_pairs", 0) or 0)
    sb = int(st.get("created_pairs", 0))
    ok = created == inp and failed == 0 and pending == 0 and sb == inp and r.get("listing_ok") == "yes"
    return ok, inp - created, f"{created:,}/{failed}/{pending}/{sb:,}"


def fmt_vals(vals, digits=1, unit=""):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "—"
    return fmt((statistics.median(vals), min(vals), max(vals), len(vals)), digits, unit)


def pace_col(fn, digits=1, unit=""):
    return lambda raw: lambda rows: fmt_vals([fn(raw, r) for r in rows], digits, unit)


def _steady(key, scale=1.0):
    def f(raw, r):
        s = steady(raw, r)
        return s[key] * scale if s else None
    return f


def _stat(key):
    return lambda raw, r: num(raw_json(raw, pace_tag(r), "stats.json").get(key))


def _rep(key):
    return lambda raw, r: num(raw_json(raw, pace_tag(r), "report.json").get(key))


def _latency(q):
    return lambda raw, r: num((raw_json(raw, pace_tag(r), "report.json").get("latency_ms") or {}).get(q))


def _share429(raw, r):
    req = num(r["requests"]) or 0
    return (num(r["rate_limited"]) or 0) / req * 100 if req else None


def _load(i):
    return lambda raw, r: pace_uptime(raw, pace_tag(r))[i]


def _halvings(raw, r):
    if not r["tool"].startswith("hubbatch"):
        return None
    return sum(1 for _, m in pace_log(raw, pace_tag(r), None) if m.startswith("adaptive rate halved"))


def _sdk_retries(raw, r):
    try:
        return float(open(os.path.join(raw, f"{pace_tag(r)}.sdk-retries.txt")).read().strip() or 0)
    except (OSError, ValueError):
        return None


def pace_table(raw, by_tool, cols):
    head = "| tool | runs | " + " | ".join(c[0] for c in cols) + " |"
    out = [head, "|---|---|" + "---|" * len(cols)]
    for tool, rows in by_tool.items():
        out.append("| " + " | ".join([PACE_NAMES.get(tool, tool), str(len(rows))] + [fn(raw)(rows) for _, fn in cols]) + " |")
    return "\n".join(out)


def col_rate_mode(raw):
    def f(rows):
        return ",".join(str(raw_json(raw, pace_tag(r), "report.json").get("rate_mode") or "—") for r in rows)
    return f


def col_lost(raw):
    return lambda rows: ",".join("0" if pace_lost(raw, r)[0] else f"**{pace_lost(raw, r)[1]:,}**" for r in rows)


def col_check(raw):
    return lambda rows: "; ".join(pace_lost(raw, r)[2] for r in rows)


EXEMPT_COLS = [
    ("steady accepted req/s (mean, s 20..end)", pace_col(_steady("mean"), 1)),
    ("% of capacity", pace_col(_steady("mean", 100 / EXEMPT_CAPACITY), 1, "%")),
    ("median / min / p10 of its seconds", lambda raw: lambda rows: "; ".join(
        f"{s['median']:.0f}/{s['min']:.0f}/{s['p10']:.0f}" for s in (steady(raw, r) for r in rows) if s)),
    ("seconds ≥ 54", pace_col(_steady("share_ge_90", 100), 0, "%")),
    ("requests", lambda raw: col("requests", 0)),
    ("429s", lambda raw: col("rate_limited", 0)),
    ("429 share", pace_col(lambda raw, r: _share429(raw, r), 2, "%")),
    ("429 share, steady", pace_col(_steady("r429_share", 100), 2, "%")),
    ("max accepted in a second", pace_col(_stat("max_requests_in_second"), 0)),
    ("pairs/s", lambda raw: col("pairs_per_s", 0)),
    ("wall s", lambda raw: col("wall_s", 1)),
    ("latency p50 / p95 ms", lambda raw: lambda rows: "; ".join(
        f"{_latency('p50')(raw, r):.0f} / {_latency('p95')(raw, r):.0f}" for r in rows
        if _latency("p50")(raw, r) is not None) or "—"),
    ("halvings", pace_col(_halvings, 0)),
    ("SDK retry lines", pace_col(_sdk_retries, 0)),
    ("rate mode", col_rate_mode),
    ("pairs lost", col_lost),
    ("created / failed / pending (report) / created (sandbox)", col_check),
    ("listing = input", lambda raw: col_listing),
    ("client CPU s", lambda raw: col("cpu_s", 2)),
    ("load before → after", lambda raw: lambda rows: "; ".join(
        f"{_load(0)(raw, r)}→{_load(1)(raw, r)}" for r in rows)),
    ("exit", lambda raw: col_exit),
]


def exempt_targets(raw, by):
    out = []
    hb = by.get("exempt", {}).get("hubbatch", [])
    sdk = by.get("exempt", {}).get("sdk", [])
    if hb:
        st = [steady(raw, r) for r in hb]
        if all(st):
            worst = min(s["mean"] for s in st)
            out.append(("≥ 90% of the capacity (54 req/s) in steady state, accepted requests/s from the 20th second",
                        worst >= 0.9 * EXEMPT_CAPACITY,
                        f"{worst:.1f} req/s = {worst / EXEMPT_CAPACITY * 100:.1f}% (worst run); median "
                        f"{statistics.median(s['mean'] for s in st):.1f} req/s"))
        shares = [_share429(raw, r) for r in hb]
        out.append(("429s ≤ 1% of requests (whole run)", max(shares) <= 1.0,
                    f"{max(shares):.2f}% (worst run); 429s/requests per run: "
                    + "; ".join(f"{int(r['rate_limited']):,}/{int(r['requests']):,}" for r in hb)))
        lost = [pace_lost(raw, r) for r in hb]
        out.append(("zero pairs lost (created = input, failed 0, pending 0, sandbox created = input, listing = input)",
                    all(l[0] for l in lost), f"{sum(1 for l in lost if l[0])}/{len(lost)} runs"))
    if hb and sdk:
        ratio = med(hb, "pairs_per_s") / med(sdk, "pairs_per_s")
        out.append(("(no target) hubbatch pairs/s ÷ the SDK's, README limiter", None,
                    f"{ratio:.2f}× ({med(hb, 'pairs_per_s'):,.0f} vs {med(sdk, 'pairs_per_s'):,.0f} pairs/s)"))
    return out


def pace_chart(raw, out, by):
    """Accepted requests per second of each hubbatch run, the SDK's median run and the
    unpaced SDK, with the capacity and 90% of it; 429s per second dashed."""
    runs = [(f"hubbatch run {r['run']}", r) for r in by.get("exempt", {}).get("hubbatch", [])]
    for t in ("sdk", "sdk-nolimit"):
        if by.get("exempt", {}).get(t):
            runs.append((PACE_NAMES[t], median_run(by["exempt"][t])))
    if not runs:
        return None
    traces = [pace_trace(raw, r) for _, r in runs]
    # As long as the longest run but the SDK's README-limited one (flat at 9/s for 12 minutes).
    short = [len(t[0]) for (name, _), t in zip(runs, traces) if name != PACE_NAMES["sdk"]]
    n = min(240, (max(short) + 10) if short else max(len(t[0]) for t in traces))
    dat = os.path.join(raw, "exempt-rps.dat")
    with open(dat, "w") as f:
        f.write("# second since the client started, then per run: accepted requests, 429s in that second: "
                + " | ".join(name for name, _ in runs) + "\n")
        for i in range(n):
            f.write(f"{i} " + " ".join(f"{t[0][i]} {t[2][i]}" if i < len(t[0]) else "NaN NaN" for t in traces) + "\n")
    colors = ["#1f77b4", "#17becf", "#9467bd", "#ff7f0e", "#d62728"]
    plots = [f"{EXEMPT_CAPACITY} with lines dt 2 lw 1.5 lc rgb 'red' title 'capacity (60/s)'",
             f"{0.9 * EXEMPT_CAPACITY} with lines dt 3 lw 1.5 lc rgb 'black' title '90% (54/s)'"]
    for i, (name, _) in enumerate(runs):
        c = colors[i % len(colors)]
        plots.append(f"'{dat}' using 1:{2 * i + 2} with lines lw 2 lc rgb '{c}' title '{name}: accepted/s'")
        plots.append(f"'{dat}' using 1:{2 * i + 3} axes x1y2 with lines lw 1 dt (4,3) lc rgb '{c}' "
                     f"title '{name}: 429s/s (right axis)'")
    png = "exempt-requests-per-second.png"
    gnuplot(f"""
set terminal pngcairo size 1100,600 font 'DejaVu Sans,11' noenhanced
set output '{os.path.join(out, png)}'
set title 'Exempt batch routes, hidden capacity 60/s: accepted requests and 429s per second'
set xlabel 'seconds since the client started'
set ylabel 'accepted requests per second'
set yrange [0:90]
set y2label '429s per second'
set y2range [0:*]
set y2tics
set key outside bottom center horizontal maxrows 4
set grid
plot {', '.join(plots)}
""")
    return png


def exempt_section(args, rows):
    by = defaultdict(lambda: defaultdict(list))
    for r in rows:
        by[r["scenario"]][r["tool"]].append(r)
    if "exempt" not in by:
        return []
    raw = args.raw
    pairs = int(next(iter(by["exempt"].values()))[0]["input_pairs"])
    m = dict(machine(args))
    md = ["## Exempt endpoints (adaptive pace)", ""]
    md.append(
        f"Written by `bench/run.sh{' --quick' if args.mode == 'quick' else ''}"
        f"{' --only exempt' if args.only == 'exempt' else ''}` at {m['date']}: {m['hubbatch']}, "
        f"Node.js {m['Node.js']}, @hubspot/api-client {m['@hubspot/api-client']}, {m['CPU']}. "
        f"{pairs:,} labelled pairs contacts→companies (`exempt.csv`, gen-pairs seed 8, as the Create input), "
        "created into a fresh, empty sandbox per run: `hubbatch sandbox --exempt-batch --capacity 60/s --labels "
        "labels.csv` (window 190/10s, which does not count the batch routes; above 60 accepted requests in a "
        "trailing second a 429 SECONDLY without Retry-After; answers slower from 45/s, +200 ms at 60/s; "
        "`batch/create` takes 100 inputs). hubbatch: `hubbatch create` with its defaults (`--rate auto`, "
        "`--batch-size auto`, `--max-rate 100/s`), logging `--log-format json --progress-interval 1s`; SDK: "
        "`bench/peer/sdk-create.mjs` with `DEFAULT_LIMITER_OPTIONS`, alternated with hubbatch, then once "
        "`--no-limit`. \"Steady\": the sandbox's accepted requests per second from the 20th second of the client's "
        "run to its last full second but one (429s there from `/_sandbox/stats` sampled every second). Pairs "
        "lost: the report's created = input pairs, failed 0, pending 0, the sandbox's `created_pairs` = input "
        "pairs, and its sorted labelled listing = the input's (md5). Raw: `raw/exempt-runs.csv`, "
        "`raw/exempt-*.{stats.json,report.json,samples.csv,log.jsonl,uptime.txt}`.")
    md += ["", "| target | met | measured |", "|---|---|---|"]
    for t, ok, meas in exempt_targets(raw, by):
        md.append(f"| {t} | {'—' if ok is None else 'yes' if ok else '**no**'} | {meas} |")
    md += ["", pace_table(raw, by["exempt"], EXEMPT_COLS), ""]
    png = pace_chart(raw, args.out, by)
    if png:
        md += [f"![Accepted requests and 429s per second, Exempt scenario]({png})", "",
               "The chart shows each hubbatch run, the SDK's median run (README limiter; it stays at 9/s to the "
               "end of its run) and the unpaced SDK run; 429s per second on the right axis.", ""]
    md += ["Analysis: `bench/results/analysis-pace.md` (at the end of the Batch size section).", ""]
    return md


BATCH_COLS = [
    ("requests (sandbox)", lambda raw: col("requests", 0)),
    ("requests (report)", lambda raw: col("client_requests", 0)),
    ("400s (refused sizes)", pace_col(lambda raw, r: num(raw_json(raw, pace_tag(r), "stats.json")
                                                          .get("by_status", {}).get("400", 0)), 0)),
    ("pairs/request", lambda raw: col_pairs_per_req),
    ("429s", lambda raw: col("rate_limited", 0)),
    ("pairs/s", lambda raw: col("pairs_per_s", 0)),
    ("wall s", lambda raw: col("wall_s", 1)),
    ("max req in any window", lambda raw: col("max_requests_in_window", 0)),
    ("pairs lost", col_lost),
    ("created / failed / pending (report) / created (sandbox)", col_check),
    ("listing = input", lambda raw: col_listing),
    ("client CPU s", lambda raw: col("cpu_s", 2)),
    ("peak RSS MB", lambda raw: col("peak_rss_mb", 1)),
    ("load before → after", lambda raw: lambda rows: "; ".join(
        f"{_load(0)(raw, r)}→{_load(1)(raw, r)}" for r in rows)),
    ("exit", lambda raw: col_exit),
]


def batchsize_section(args, rows):
    by = defaultdict(list)
    for r in rows:
        if r["scenario"] == "batchsize":
            by[r["tool"]].append(r)
    if not by:
        return []
    raw = args.raw
    pairs = int(next(iter(by.values()))[0]["input_pairs"])
    m = dict(machine(args))
    md = ["## Batch size learned", ""]
    md.append(
        f"Written by `bench/run.sh{' --quick' if args.mode == 'quick' else ''}"
        f"{' --only batchsize' if args.only == 'batchsize' else ''}` at {m['date']}: {m['hubbatch']}, "
        f"{m['CPU']}. {pairs:,} labelled pairs contacts→companies (`batchsize.csv`, gen-pairs seed 9), created "
        "into a fresh, empty sandbox per run: `hubbatch sandbox --rate 190/10s --max-inputs create:2000 --labels "
        "labels.csv` (`batch/create` takes 2,000 inputs, the other routes 100; the 10 s window counts the "
        "requests). hubbatch `create` with its defaults (`--batch-size auto`: starts at 100, doubles after 4 "
        "clean answers, up to 2,000), against `--batch-size 100`, in that order"
        + (", then the defaults again" if len(by.get("hubbatch", [])) > 1 else "")
        + ". Requests are the sandbox's (a refused size's 400 included). Raw: `raw/batchsize-runs.csv`, "
        "`raw/batchsize-*`.")
    md += ["", "| target | met | measured |", "|---|---|---|"]
    auto, fixed = by.get("hubbatch", []), by.get("hubbatch-bs100", [])
    if auto and fixed:
        a, f = max(num(r["requests"]) for r in auto), med(fixed, "requests")
        md.append(f"| defaults use ≤ 1/15 of the requests of `--batch-size 100` | {'yes' if a * 15 <= f else '**no**'} | "
                  f"1/{f / a:.1f}: {a:,.0f} (worst run) vs {f:,.0f} requests |")
        md.append(f"| (no target) pairs/s, defaults ÷ `--batch-size 100` | — | {med(auto, 'pairs_per_s') / med(fixed, 'pairs_per_s'):.1f}× "
                  f"({med(auto, 'pairs_per_s'):,.0f} vs {med(fixed, 'pairs_per_s'):,.0f} pairs/s) |")
    allr = auto + fixed
    lost = [pace_lost(raw, r) for r in allr]
    md.append(f"| every pair created (report, sandbox `created_pairs`, listing = input) | "
              f"{'yes' if all(l[0] for l in lost) else '**no**'} | {sum(1 for l in lost if l[0])}/{len(lost)} runs |")
    md += ["", pace_table(raw, by, BATCH_COLS), ""]
    return md


def pace_sections(args):
    """(exempt_md, batchsize_md); the hand-written analysis-pace.md ends the last present one."""
    secs = []
    for name, fn in (("exempt", exempt_section), ("batchsize", batchsize_section)):
        path = os.path.join(args.raw, f"{name}-runs.csv")
        md = []
        if os.path.exists(path):
            with open(path) as f:
                md = fn(args, list(csv.DictReader(f)))
        secs.append(md)
    notes = os.path.join(args.out, "analysis-pace.md")
    last = secs[1] if secs[1] else secs[0]
    if last and os.path.exists(notes):
        last += [open(notes).read().strip(), ""]
    return secs


def splice_section(text, section_md, heading="## Create", before="## Charts"):
    """text with the section starting at `heading` replaced (or inserted before `before`)."""
    lines = text.split("\n")
    start = next((i for i, l in enumerate(lines) if l.startswith(heading)), None)
    if start is not None:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = section_md
    else:
        at = next((i for i, l in enumerate(lines) if l.startswith(before)), len(lines))
        lines[at:at] = section_md
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--hubbatch", required=True)
    ap.add_argument("--peer", required=True)
    ap.add_argument("--mode", default="full")
    ap.add_argument("--only", default="",
                    help="create, export, exempt or batchsize: rewrite only that section of an existing latest.md")
    args = ap.parse_args()

    create_csv = os.path.join(args.raw, "create-runs.csv")
    create_md = []
    if os.path.exists(create_csv):
        with open(create_csv) as f:
            create_md = create_section(args, list(csv.DictReader(f)))
    export_csv = os.path.join(args.raw, "export-runs.csv")
    export_md = []
    if os.path.exists(export_csv):
        with open(export_csv) as f:
            export_md = export_section(args, list(csv.DictReader(f)))
    exempt_md, batchsize_md = pace_sections(args)
    if args.only in ("exempt", "batchsize"):
        path = os.path.join(args.out, "latest.md")
        text = open(path).read() if os.path.exists(path) else ""
        if args.only == "exempt":
            before = "## Batch size learned" if "\n## Batch size learned" in text else "## Charts"
            text = splice_section(text, exempt_md, "## Exempt endpoints", before)
        else:
            # The analysis ends this section; without it, the Exempt one.
            text = splice_section(text, batchsize_md, "## Batch size learned")
        with open(path, "w") as f:
            f.write(text)
        return
    if args.only in ("create", "export"):
        path = os.path.join(args.out, "latest.md")
        text = open(path).read() if os.path.exists(path) else ""
        section, heading = (create_md, "## Create") if args.only == "create" else (export_md, "## Export")
        with open(path, "w") as f:
            f.write(splice_section(text, section, heading))
        return

    runs = load_runs(args.raw)
    by = defaultdict(lambda: defaultdict(list))
    for r in runs:
        by[r["scenario"]][r["tool"]].append(r)

    md = ["# hubbatch vs the official HubSpot Node SDK — benchmark results", ""]
    md.append(f"Written by `bench/run.sh{' --quick' if args.mode == 'quick' else ''}` "
              f"(see `bench/README.md`). Every figure is the **median of the runs, with the min–max in "
              f"brackets**; the tools ran alternately, each against a fresh sandbox, on the same machine in "
              f"the same session. Raw figures: `raw/runs.csv`, per-run sandbox stats and client reports in `raw/`.")
    md += ["", "## Machine and versions", "", "| | |", "|---|---|"]
    md += [f"| {k} | {v} |" for k, v in machine(args)]
    md += ["",
           "Client CPU is user+sys and peak RSS is the maximum resident set, both from `/usr/bin/time -v` around "
           "the client process (Node's startup included for the SDK). Sandbox CPU is the sandbox process's "
           "user+sys ticks (`/proc/PID/stat`) over the client's run. pairs/s = pairs the client reports archived "
           "/ the client's wall time. \"Rate used after the 1st window\" is the mean of the sandbox's accepted "
           "requests per second from the 10th second of the client's run to its last full second, over the "
           "limit. 429s are the sandbox's count (the background client's own 429s are subtracted in the shared "
           "scenario).", ""]

    md += ["## Targets", "", "| scenario | target | met | measured |", "|---|---|---|---|"]
    for s, t, ok, m in targets(by):
        md.append(f"| {s} | {t} | {'—' if ok is None else 'yes' if ok else '**no**'} | {m} |")
    md.append("")

    for s, title in SCENARIOS:
        if s not in by:
            continue
        pairs = next(iter(by[s].values()))[0]["input_pairs"]
        md += [f"## {title}, {int(pairs):,} pairs", ""]
        cols = {"professional": RATED, "free": RATED, "faults": FAULTS, "shared": SHARED}.get(s, UNRATED)
        md.append(table(by[s], cols))
        md.append("")

    md += create_md
    md += export_md
    import scale_report  # same directory; its section is empty without the Scale to 100M runs
    md += scale_report.section(args.raw, args.out)
    md += exempt_md
    md += batchsize_md

    os.makedirs(args.out, exist_ok=True)
    charts = []
    c = chart_rate(args.raw, args.out, by, "professional", 19.0,
                   "Professional limit (190 requests / 10 s): requests per second, median run of each tool",
                   "professional-requests-per-second.png")
    if c:
        charts.append((c, "Requests per second over time against the limit, Professional scenario"))
    c = chart_rate(args.raw, args.out, by, "free", 10.0,
                   "Free/Starter limit (100 requests / 10 s): requests per second, median run of each tool",
                   "free-requests-per-second.png")
    if c:
        charts.append((c, "Requests per second over time against the limit, Free/Starter scenario"))
    charts.append((chart_cpu(args.raw, args.out, by, "cpu-per-million-pairs.png"),
                   "Client CPU seconds per million pairs"))
    md += ["## Charts", ""]
    md += [f"![{alt}]({png})" for png, alt in charts]
    md += ["", "## Profile of hubbatch: top five costs per million pairs", "", profile_section(args.raw), ""]

    analysis = os.path.join(args.out, "analysis.md")
    if os.path.exists(analysis):
        md += [open(analysis).read().strip(), ""]

    with open(os.path.join(args.out, "latest.md"), "w") as f:
        f.write("\n".join(md))


if __name__ == "__main__":
    main()
