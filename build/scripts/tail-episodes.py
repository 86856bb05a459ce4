#!/usr/bin/env python3
"""What runs while deliveries are slow.

Lays the load generator's slow log (--slow-log: "sent_unix_us latency_us"
per slow delivery) beside a system-wide profile taken with the same clock:

  perf record -a -g -k CLOCK_REALTIME -F 2000 -o perf.data -- sleep 6
  perf script -i perf.data -F comm,tid,time,ip,sym > perf.txt
  build/scripts/tail-episodes.py slow.relay.1 perf.txt

A millisecond is in an episode when at least --min deliveries slower than
--over were in flight during it. Printed: the share of time in episodes, the
samples per millisecond of each process in and out of them, and the
functions whose rate rises most inside them (the first frame of the stack
that belongs to the project, else the leaf).
"""
import argparse
import collections
import re
import sys


def episodes(path, over_us, least):
    inflight = collections.Counter()
    with open(path) as f:
        for line in f:
            sent, lat = map(int, line.split())
            if lat < over_us:
                continue
            for ms in range(sent // 1000, (sent + lat) // 1000):
                inflight[ms] += 1
    return {ms for ms, n in inflight.items() if n >= least}


def samples(path):
    head = re.compile(r"\s*(\S+)\s+\d+\s+([\d.]+):")
    with open(path) as f:
        for block in f.read().split("\n\n"):
            lines = block.strip().split("\n")
            m = head.match(lines[0]) if lines else None
            if not m:
                continue
            frames = [re.sub(r"\+0x[0-9a-f]+$", "", l.strip().split(" ", 1)[-1]) for l in lines[1:]]
            what = next((f for f in frames if "switchboard/" in f or f.startswith("main.") or "gcBgMark" in f),
                        frames[0] if frames else "?")
            yield m.group(1), int(float(m.group(2)) * 1000), what


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("slowlog")
    ap.add_argument("perfscript")
    ap.add_argument("--over", type=float, default=8, help="ms: a delivery this slow counts (default 8)")
    ap.add_argument("--min", type=int, default=20, help="deliveries in flight that make an episode (default 20)")
    ap.add_argument("--top", type=int, default=20)
    a = ap.parse_args()
    eps = episodes(a.slowlog, int(a.over * 1000), a.min)
    inside, outside = collections.Counter(), collections.Counter()
    fin, fout = collections.Counter(), collections.Counter()
    lo = hi = None
    for comm, ms, what in samples(a.perfscript):
        lo = ms if lo is None else min(lo, ms)
        hi = ms if hi is None else max(hi, ms)
        (inside if ms in eps else outside)[comm] += 1
        (fin if ms in eps else fout)[comm + " " + what] += 1
    if lo is None:
        sys.exit("no samples in " + a.perfscript)
    n_in = sum(1 for ms in range(lo, hi + 1) if ms in eps)
    n_out = hi - lo + 1 - n_in
    if n_in == 0:
        sys.exit("no episode in the profile's %d ms" % (hi - lo + 1))
    print("episodes: %d of %d ms (%.1f%%)" % (n_in, n_in + n_out, 100 * n_in / (n_in + n_out)))
    print("\nsamples per ms   in    out   process")
    for comm in sorted(set(inside) | set(outside), key=lambda c: -inside[c]):
        if inside[comm] + outside[comm] >= 50:
            print("               %5.2f  %5.2f   %s" % (inside[comm] / n_in, outside[comm] / max(n_out, 1), comm))
    print("\nsamples per ms   in    out   function")
    rise = sorted(fin, key=lambda k: -(fin[k] / n_in - fout[k] / max(n_out, 1)))
    for k in rise[:a.top]:
        print("               %5.3f  %5.3f   %s" % (fin[k] / n_in, fout[k] / max(n_out, 1), k[:110]))


if __name__ == "__main__":
    main()
