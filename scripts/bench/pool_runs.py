#!/usr/bin/env python3
"""Summarises several runs of `cargo bench --bench compare` from their
MITHRIL_BENCH_DUMP files (one CSV per run: workload,pass,variant,ms).

For each workload, pass and variant: the median of every iteration of every
run (pooled), its ratio to `mlx-rs compiled` and to `python mlx compiled`,
and the range of the per-run ratios (each run's medians divided).

    for r in 1 2 3; do MITHRIL_BENCH_DUMP=/tmp/run$r.csv cargo bench --bench compare; done
    python3 scripts/bench/pool_runs.py /tmp/run1.csv /tmp/run2.csv /tmp/run3.csv
"""

import csv
import statistics
import sys

BASE = "mlx-rs compiled"
PY = "python mlx compiled"


def main(paths):
    runs = []
    for path in paths:
        run = {}
        with open(path) as f:
            for row in csv.reader(f):
                # Older dumps did not quote variant names with commas.
                w, p, v, ms = row[0], row[1], ",".join(row[2:-1]), row[-1]
                run.setdefault((w, p, v), []).append(float(ms))
        runs.append(run)
    keys = []
    for run in runs:
        for k in run:
            if k not in keys:
                keys.append(k)
    pooled = {k: statistics.median([t for run in runs for t in run.get(k, [])]) for k in keys}
    print("%d runs: %s" % (len(paths), ", ".join(paths)))
    print()
    print("| workload | pass | variant | pooled median ms | n | vs mlx-rs (runs) | vs py-mlx (runs) |")
    print("| --- | --- | --- | ---: | ---: | --- | --- |")
    for k in keys:
        w, p, v = k
        n = sum(len(run.get(k, [])) for run in runs)

        def ratio(base):
            bk = (w, p, base)
            if bk not in pooled:
                return "-"
            per_run = [statistics.median(run[k]) / statistics.median(run[bk])
                       for run in runs if k in run and bk in run]
            return "%.2f (%.2f-%.2f)" % (pooled[k] / pooled[bk], min(per_run), max(per_run))

        print("| %s | %s | %s | %.3f | %d | %s | %s |" % (w, p, v, pooled[k], n, ratio(BASE), ratio(PY)))


if __name__ == "__main__":
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    main(sys.argv[1:])
