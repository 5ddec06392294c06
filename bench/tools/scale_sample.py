#!/usr/bin/env python3
"""Samples a running hubbatch once a second for bench/run.sh's Scale scenario.

    scale_sample.py --pid PID --sandbox-pid PID --metrics FILE --out SAMPLES.csv [--interval 1]

PID is hubbatch's, or the /usr/bin/time wrapping it (its child is found).
Each row: t_s (since the start), rss_kb and hwm_kb (/proc/PID/status VmRSS,
VmHWM), cpu_s and sandbox_cpu_s (user+sys), archived and input (the
--metrics-file counters, rewritten by hubbatch every --progress-interval),
spill_files and spill_bytes (hubbatch's open descriptors on its unlinked
hubbatch-spill-* files, and their sizes: the partition pass's temporary disk,
which `du` cannot see), load1 (/proc/loadavg). Stops when PID exits.
Standard library only.
"""
import argparse
import os
import time

HZ = os.sysconf("SC_CLK_TCK")


def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def child_hubbatch(pid):
    """hubbatch itself: PID, or PID's child when PID is /usr/bin/time."""
    if read(f"/proc/{pid}/comm").strip() == "hubbatch":
        return pid
    kids = read(f"/proc/{pid}/task/{pid}/children").split()
    return int(kids[0]) if kids else None


def status_kb(pid, field):
    for line in read(f"/proc/{pid}/status").splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def cpu_s(pid):
    stat = read(f"/proc/{pid}/stat")
    if not stat:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / HZ  # utime, stime (fields 14, 15 of stat)


def metric(text, name):
    for line in text.splitlines():
        if line.startswith(name + " "):
            return int(float(line.split()[1]))
    return 0


def spill(pid):
    files = size = 0
    fd_dir = f"/proc/{pid}/fd"
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return 0, 0
    for n in names:
        try:
            if "hubbatch-spill-" not in os.readlink(f"{fd_dir}/{n}"):
                continue
            size += os.stat(f"{fd_dir}/{n}").st_size
            files += 1
        except OSError:
            pass
    return files, size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--sandbox-pid", type=int, required=True)
    ap.add_argument("--metrics", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    a = ap.parse_args()
    t0 = time.monotonic()
    hb = None
    with open(a.out, "w") as out:
        out.write("t_s,rss_kb,hwm_kb,cpu_s,sandbox_cpu_s,archived,input,spill_files,spill_bytes,load1\n")
        k = 0
        while os.path.exists(f"/proc/{a.pid}"):
            if hb is None:
                hb = child_hubbatch(a.pid)
            if hb is not None and os.path.exists(f"/proc/{hb}"):
                m = read(a.metrics)
                files, size = spill(hb)
                row = [f"{time.monotonic() - t0:.2f}", status_kb(hb, "VmRSS"), status_kb(hb, "VmHWM"),
                       f"{cpu_s(hb):.2f}", f"{cpu_s(a.sandbox_pid):.2f}", metric(m, "hubbatch_archived_pairs_total"),
                       metric(m, "hubbatch_input_pairs_total"), files, size,
                       read("/proc/loadavg").split()[0]]
                out.write(",".join(str(x) for x in row) + "\n")
                out.flush()
            k += 1
            time.sleep(max(0.0, t0 + k * a.interval - time.monotonic()))  # fixed origin: no drift


if __name__ == "__main__":
    main()
