"""Shared pieces of the PyTorch peers (engine.py, train_vgg_small.py, infer_vgg_small.py): the timing loop,
the vgg-small network shape, and the `--cases` command-line driver. Imported as `common` (Python puts the
script's own directory first on sys.path when bench/main.ts runs `python3 bench/torch/<peer>.py`).
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch.nn as nn


def timed(fn, min_runs=5, warmup=2, max_runs=100, budget_s=None):
    """Median and minimum wall-clock of warm runs, in ms: `warmup` untimed calls, one probe call, then enough
    runs to fill SPIKECUT_BENCH_BUDGET seconds (default 1.5), at least `min_runs` and at most `max_runs`."""
    if budget_s is None:
        budget_s = float(os.environ.get("SPIKECUT_BENCH_BUDGET", "1.5"))
    for _ in range(warmup):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-6)
    runs = max(min_runs, min(max_runs, int(budget_s / one)))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, min(times) * 1e3


def vgg_small(norm, act):
    """vgg-small on 28x28x1: conv 32-32-avgpool-64-64-avgpool (3x3, padding 1, Kaiming fan-out init), fc 256, fc 10.
    `norm(c)` builds the layer after each conv, `act()` the activation after it and after fc 256."""
    layers = []
    c_in = 1
    for c in [32, 32, "M", 64, 64, "M"]:
        if c == "M":
            layers.append(nn.AvgPool2d(2))
            continue
        conv = nn.Conv2d(c_in, c, 3, padding=1)
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        layers += [conv, norm(c), act()]
        c_in = c
    layers += [nn.Flatten(), nn.Linear(64 * 7 * 7, 256), act(), nn.Linear(256, 10)]
    return nn.Sequential(*layers)


def run_cases(cases, measure, runs_default=None, warn_unknown=True):
    """The peers' command line: `--cases name1,name2 [--threads 2]` (and `--runs N` when `runs_default` is given).
    For each known case, prints one JSON line: {"case": name, **measure(cases[name](), args)}."""
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=",".join(cases))
    if runs_default is not None:
        ap.add_argument("--runs", type=int, default=runs_default)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.cases.split(","):
        if name not in cases:
            if warn_unknown:
                print(f"unknown case {name}", file=sys.stderr)
            continue
        print(json.dumps({"case": name, **measure(cases[name](), args)}), flush=True)
