#!/usr/bin/env python3
"""Samples a hubbatch sandbox's /_sandbox/stats about every second, for the pace
scenarios' traces (bench/run.sh --only exempt|batchsize): one CSV line a sample,
the wall-clock time and the sandbox's cumulative counters. The per-second
differences give the requests, 429s and accepted requests of each second (the
sandbox's own requests_per_second has accepted requests only).

Runs until SIGTERM, or until the sandbox (--sandbox-pid) is gone. Called by
bench/run.sh; the stats route is not an API route, so sampling costs the client
nothing of the sandbox's rate limits."""
import argparse
import json
import os
import signal
import ssl
import sys
import time
import urllib.request

COLUMNS = ["t", "requests", "accepted", "rate_limited", "rate_limited_secondly", "created_pairs",
           "max_requests_in_second"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="the sandbox's base URL")
    ap.add_argument("--ca-file", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--sandbox-pid", type=int, default=0)
    a = ap.parse_args()

    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    ctx = ssl.create_default_context(cafile=a.ca_file)
    with open(a.out, "w") as f:
        f.write(",".join(COLUMNS) + "\n")
        next_t = time.time()
        while not stop:
            if a.sandbox_pid:
                try:
                    os.kill(a.sandbox_pid, 0)
                except OSError:
                    break
            try:
                t = time.time()
                with urllib.request.urlopen(a.url + "/_sandbox/stats", context=ctx, timeout=5) as r:
                    st = json.load(r)
                f.write(f"{t:.3f}," + ",".join(str(st.get(c, "")) for c in COLUMNS[1:]) + "\n")
                f.flush()
            except (OSError, ValueError) as e:
                print(f"sample_stats: {e}", file=sys.stderr)
            next_t += a.interval
            time.sleep(max(0.0, next_t - time.time()))


if __name__ == "__main__":
    main()
