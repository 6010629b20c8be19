"""PyTorch peers of bench/cases/engine.ts: same shapes, same passes, median of warm runs.

Usage: python3 engine.py --cases name1,name2 [--runs N]; prints one JSON line per case: {"case", "torch_ms"}.
The caller (bench/main.ts) sets the environment (threads, OpenBLAS core type, malloc thresholds).
"""
import sys

import torch
import torch.nn.functional as F

from common import run_cases, timed


def conv_case(n, c, hw, k, backward, fmt=torch.contiguous_format):
    x = torch.randn(n, c, hw, hw).contiguous(memory_format=fmt).requires_grad_(backward and c > 1)
    w = torch.randn(k, c, 3, 3).contiguous(memory_format=fmt).requires_grad_(backward)
    if not backward:
        def run():
            with torch.no_grad():
                F.conv2d(x, w, None, padding=1)
        return run
    g = torch.randn(n, k, hw, hw).contiguous(memory_format=fmt)

    def run():
        x.grad = None
        w.grad = None
        F.conv2d(x, w, None, padding=1).backward(g)
    return run


def linear_case(n, i, o, backward):
    x = torch.randn(n, i, requires_grad=backward)
    w = torch.randn(o, i, requires_grad=backward)
    b = torch.randn(o, requires_grad=backward)
    if not backward:
        def run():
            with torch.no_grad():
                F.linear(x, w, b)
        return run
    g = torch.randn(n, o)

    def run():
        x.grad = w.grad = b.grad = None
        F.linear(x, w, b).backward(g)
    return run


def matmul_case():
    a = torch.randn(512, 512)
    b = torch.randn(512, 512)

    def run():
        with torch.no_grad():
            torch.mm(a, b)
    return run


def batchnorm_case():
    x = torch.randn(64, 32, 28, 28, requires_grad=True)
    gamma = torch.ones(32, requires_grad=True)
    beta = torch.zeros(32, requires_grad=True)
    rm = torch.zeros(32)
    rv = torch.ones(32)
    g = torch.randn(64, 32, 28, 28)

    def run():
        x.grad = gamma.grad = beta.grad = None
        F.batch_norm(x, rm, rv, gamma, beta, training=True).backward(g)
    return run


class TriangleSpike(torch.autograd.Function):
    """Heaviside with the triangle surrogate (gamma = 1), as a PyTorch user writes a multi-step LIF."""

    @staticmethod
    def forward(ctx, u):
        ctx.save_for_backward(u)
        return (u > 0).to(u.dtype)

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        return g * torch.clamp(1.0 - u.abs(), min=0.0)


def lif_case(T=8, M=1 << 21):
    x = torch.randn(T, M, requires_grad=True)
    g = torch.randn(T, M)

    def run():
        x.grad = None
        v = torch.zeros(M)
        out = []
        for t in range(T):
            h = v + x[t]
            s = TriangleSpike.apply(h - 1.0)
            v = 0.5 * (h * (1.0 - s))
            out.append(s)
        torch.stack(out).backward(g)
    return run


def best_layout(make):
    """PyTorch's best memory format for a conv case: NCHW (its default) and channels_last (its own answer to
    per-call reorders) are both timed; the faster median counts."""
    return {"nchw": make(torch.contiguous_format), "channels_last": make(torch.channels_last)}


CASES = {
    "conv2d_64x32x14x14_k3_fwd": lambda: best_layout(lambda f: conv_case(64, 32, 14, 32, False, f)),
    "conv2d_64x32x14x14_k3_fwd_bwd": lambda: best_layout(lambda f: conv_case(64, 32, 14, 32, True, f)),
    "conv2d_64x32x14x14_k3_fwd_nchw": lambda: conv_case(64, 32, 14, 32, False),
    "conv2d_64x32x14x14_k3_fwd_bwd_nchw": lambda: conv_case(64, 32, 14, 32, True),
    "conv2d_64x32x14x14_k3_fwd_bwd_winograd2": lambda: best_layout(lambda f: conv_case(64, 32, 14, 32, True, f)),
    "conv2d_64x32x14x14_k3_fwd_bwd_winograd4": lambda: best_layout(lambda f: conv_case(64, 32, 14, 32, True, f)),
    "conv2d_64x32x28x28_k3_fwd_bwd": lambda: best_layout(lambda f: conv_case(64, 32, 28, 32, True, f)),
    "conv2d_64x32x28x28_k3_fwd_bwd_winograd2": lambda: best_layout(lambda f: conv_case(64, 32, 28, 32, True, f)),
    "conv2d_64x32x28x28_k3_fwd_bwd_winograd4": lambda: best_layout(lambda f: conv_case(64, 32, 28, 32, True, f)),
    "conv2d_64x1x28x28_k3_fwd": lambda: best_layout(lambda f: conv_case(64, 1, 28, 32, False, f)),
    "conv2d_64x1x28x28_k3_fwd_bwd": lambda: best_layout(lambda f: conv_case(64, 1, 28, 32, True, f)),
    "conv2d_64x1x28x28_k3_fwd_nchw": lambda: conv_case(64, 1, 28, 32, False),
    "conv2d_64x1x28x28_k3_fwd_bwd_nchw": lambda: conv_case(64, 1, 28, 32, True),
    "matmul_512": matmul_case,
    "linear_128x3136x256_fwd": lambda: linear_case(128, 3136, 256, False),
    "linear_128x3136x256_fwd_bwd": lambda: linear_case(128, 3136, 256, True),
    "batchnorm_64x32x28x28_fwd_bwd": batchnorm_case,
    "lif_fwd_bwd_T8_N2M": lif_case,
}


def main():
    def measure(fn, args):
        if isinstance(fn, dict):
            results = {name: timed(f, args.runs, warmup=3, max_runs=200) for name, f in fn.items()}
            name = min(results, key=lambda k: results[k][0])
            ms, best = results[name]
            return {"torch_ms": ms, "torch_min_ms": best, "torch_layout": name,
                    "torch_ms_by_layout": {k: round(v[0], 3) for k, v in results.items()}}
        ms, best = timed(fn, args.runs, warmup=3, max_runs=200)
        return {"torch_ms": ms, "torch_min_ms": best}
    run_cases(CASES, measure, runs_default=20, warn_unknown=False)


if __name__ == "__main__":
    sys.exit(main())
