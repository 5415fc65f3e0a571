#!/usr/bin/env python3
"""Summarise the simulator's request log (`GET /_sim/requests`, a JSON list of
{"method", "path", "status", "at_ms"}): DLI API calls only (not /_sim/*), optionally only those
at or after --since-ms. Prints one JSON line:

  {"requests", "first_ms", "last_ms", "span_s", "mean_rps", "max_in_1s", "by_status", ...}

`max_in_1s` is the largest number of requests whose at_ms fall in any window [t, t + 1000 ms),
sliding over every request's time (at_ms is whole milliseconds, so counts at the window's
edges carry ±1 ms of rounding).

  curl -s http://127.0.0.1:PORT/_sim/requests | requests_stats.py
  requests_stats.py --since-ms 12345 log.json
  requests_stats.py --skip 40 log.json       # only what came after the first 40 entries
"""
import argparse
import bisect
import collections
import json
import sys


def stats(log, since_ms=0, skip=0):
    calls = [r for r in log[skip:] if not r["path"].startswith("/_sim/") and r["at_ms"] >= since_ms]
    times = sorted(r["at_ms"] for r in calls)
    out = {"requests": len(times)}
    if not times:
        return out
    span = (times[-1] - times[0]) / 1000.0
    max_in_1s = max(bisect.bisect_left(times, t + 1000) - i for i, t in enumerate(times))
    gaps = [b - a for a, b in zip(times, times[1:])]
    out.update({
        "first_ms": times[0],
        "last_ms": times[-1],
        "span_s": round(span, 3),
        "mean_rps": round(len(times) / span, 2) if span > 0 else None,
        # Requests after the first, over the span: the achieved spacing as a rate.
        "mean_rps_intervals": round((len(times) - 1) / span, 2) if span > 0 else None,
        "max_in_1s": max_in_1s,
        "min_gap_ms": min(gaps) if gaps else None,
        "by_status": dict(sorted(collections.Counter(str(r["status"]) for r in calls).items())),
        "by_method": dict(sorted(collections.Counter(r["method"] for r in calls).items())),
        "distinct_paths": len({r["path"] for r in calls}),
    })
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--since-ms", type=int, default=0)
    ap.add_argument("--skip", type=int, default=0,
                    help="ignore the first N entries (those logged before a run began)")
    ap.add_argument("file", nargs="?", help="the log (default: stdin)")
    a = ap.parse_args()
    log = json.load(open(a.file) if a.file else sys.stdin)
    print(json.dumps(stats(log, a.since_ms, a.skip)))


if __name__ == "__main__":
    main()
