"""PyTorch peer of bench/cases/infer.ts: single-step inference of a converted IF vgg-small, 8 steps, batch 128.

  infer_snn_vgg_small_T8   vgg-small (conv 32-32-avgpool-64-64-avgpool, fc 256, fc 10; BN kept, eval mode) with
                           every QCFS activation replaced by an IF neuron (θ = 1, soft reset by subtraction, membrane
                           starting at θ/2, strict v > θ, output θ·spike), run one timestep at a time with the state
                           kept between steps (SpikingJelly single-step style), static input presented at every
                           step, under torch.no_grad(). One run = reset + 8 steps.

Usage: python3 infer_vgg_small.py --cases infer_snn_vgg_small_T8 [--threads 2]; prints one JSON line per case
{"case","torch_ms","torch_min_ms"}. The caller (bench/main.ts) sets the tuned environment (OpenBLAS core type, malloc
thresholds) exactly as for the engine and training peers.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn

B = 128
T = 8


def timed(fn, min_runs=5, budget_s=float(os.environ.get("SPIKECUT_BENCH_BUDGET", "1.5"))):
    for _ in range(2):
        fn()
    t0 = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t0, 1e-6)
    runs = max(min_runs, min(100, int(budget_s / one)))
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e3, min(times) * 1e3


class IF(nn.Module):
    """Single-step IF neuron with explicit state (soft reset, v0 = θ/2, output θ·S)."""

    def __init__(self, thresh=1.0):
        super().__init__()
        self.thresh = thresh
        self.v = None

    def reset(self):
        self.v = None

    def forward(self, x):
        if self.v is None:
            self.v = torch.full_like(x, 0.5 * self.thresh)
        self.v = self.v + x
        s = (self.v > self.thresh).to(x.dtype)
        self.v = self.v - s * self.thresh
        return s * self.thresh


def vgg_small_if():
    layers = []
    c_in = 1
    for c in [32, 32, "M", 64, 64, "M"]:
        if c == "M":
            layers.append(nn.AvgPool2d(2))
            continue
        conv = nn.Conv2d(c_in, c, 3, padding=1)
        nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
        layers += [conv, nn.BatchNorm2d(c), IF()]
        c_in = c
    layers += [nn.Flatten(), nn.Linear(64 * 7 * 7, 256), IF(), nn.Linear(256, 10)]
    return nn.Sequential(*layers).eval()


def infer_case():
    torch.manual_seed(0)
    net = vgg_small_if()
    x = torch.randn(B, 1, 28, 28)
    neurons = [m for m in net.modules() if isinstance(m, IF)]

    def run():
        with torch.no_grad():
            for m in neurons:
                m.reset()
            acc = None
            for _ in range(T):
                o = net(x)
                acc = o if acc is None else acc + o
        return acc
    return run


CASES = {"infer_snn_vgg_small_T8": infer_case}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", default=",".join(CASES))
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    for name in args.cases.split(","):
        if name not in CASES:
            print(f"unknown case {name}", file=sys.stderr)
            continue
        ms, best = timed(CASES[name]())
        print(json.dumps({"case": name, "torch_ms": round(ms, 4), "torch_min_ms": round(best, 4)}), flush=True)


if __name__ == "__main__":
    main()
