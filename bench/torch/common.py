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
    runs to fill SPIKECUT_BENCH_BUDGET seconds (default 1.5), at least `min_runs` and at most `max_runs`.
    In serve mode (one round of an interleaved measurement) SPIKECUT_BENCH_MIN_RUNS and SPIKECUT_BENCH_WARMUP
    override the first two: later rounds need no long warm-up and fewer runs each."""
    if budget_s is None:
        budget_s = float(os.environ.get("SPIKECUT_BENCH_BUDGET", "1.5"))
    min_runs = int(os.environ.get("SPIKECUT_BENCH_MIN_RUNS", min_runs))
    warmup = int(os.environ.get("SPIKECUT_BENCH_WARMUP", warmup))
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
    For each known case, prints one JSON line: {"case": name, **measure(cases[name](), args)}.

    `--serve` keeps the process (and each case's tensors) alive for an interleaved measurement: it reads one JSON
    request per line on stdin, {"case", "budget", "min_runs", "warmup"}, times one round of that case and answers
    with the same JSON line; bench/main.ts alternates such rounds with its own, so load from other processes on a
    shared machine falls on both sides alike."""
    import torch

    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=",".join(cases))
    if runs_default is not None:
        ap.add_argument("--runs", type=int, default=runs_default)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--serve", action="store_true")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args.serve:
        built = {}
        for line in sys.stdin:
            req = json.loads(line)
            name = req["case"]
            if name not in cases:
                print(json.dumps({"case": name, "error": "unknown case"}), flush=True)
                continue
            if name not in built:
                built[name] = cases[name]()
            os.environ["SPIKECUT_BENCH_BUDGET"] = str(req.get("budget", 1.5))
            for key, var in (("min_runs", "SPIKECUT_BENCH_MIN_RUNS"), ("warmup", "SPIKECUT_BENCH_WARMUP")):
                if key in req:
                    os.environ[var] = str(req[key])
                else:
                    os.environ.pop(var, None)
            print(json.dumps({"case": name, **measure(built[name], args)}), flush=True)
        return
    for name in args.cases.split(","):
        if name not in cases:
            if warn_unknown:
                print(f"unknown case {name}", file=sys.stderr)
            continue
        print(json.dumps({"case": name, **measure(cases[name](), args)}), flush=True)
