"""PyTorch peers of bench/cases/train.ts: one training step of vgg-small (batch 128, 28x28x1), median of warm runs.

  train_ann_vgg_small      QCFS ANN (L=4, λ init 8, straight-through floor), BN, AvgPool, CE loss, SGD momentum step
  train_ann_vgg_small_rcs  the same plus the RCS-ANN regulariser (α = 0.005) on every QCFS layer's pre-activation,
                           composed from torch ops (spec §4.1), the loss as below
  train_snn_vgg_small_T4   LIF (θ=1, τ=0.5 after a hard reset, ZIF triangle surrogate γ=1) + TEBN + TET loss, T=4,
                           static input repeated over time, SGD momentum step. The LIF runs step by step in Python
                           with a surrogate autograd.Function per step, the way SpikingJelly's `torch` backend does it
                           (multi-step module looping single-step charge/fire/reset).
  train_snn_vgg_small_T4_rcs  the same plus the RCS-SNN regulariser (α = 0.005): every LIF layer keeps its spikes and
                           post-reset membranes, and the statistic is composed from torch ops (spec §4.2):
                           R_t = S_t + relu(U_t/θ), R̄ = mean of the last int(0.3·T) steps (detached),
                           r_n = 1 / (mean_t cos(R_t, R̄) + 1e-5); L = mean over layers of max_n(m_n · r_n).

Usage: python3 train_vgg_small.py --cases name1,name2 [--threads 2]; prints one JSON line per case {"case","torch_ms"}.
The caller (bench/main.ts) sets the tuned environment (OpenBLAS core type, malloc thresholds).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import run_cases, timed, vgg_small as vgg_small_layers

B = 128


class FloorSTE(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x):
        return torch.floor(x)

    @staticmethod
    def backward(ctx, g):
        return g


class QCFS(nn.Module):
    def __init__(self, L=4, thresh=8.0, rcs=None):
        super().__init__()
        self.L = L
        self.up = nn.Parameter(torch.tensor([thresh]))
        self.rcs = rcs  # a list the layer appends its RCS statistic to, or None

    def forward(self, x):
        if self.rcs is not None:
            self.rcs.append(rcs_ann_stat(x))
        x = F.relu(x) / self.up
        x = FloorSTE.apply(x * self.L + 0.5) / self.L
        return torch.clamp(x, 0, 1) * self.up


class ZIF(torch.autograd.Function):
    """Heaviside forward, triangle surrogate backward (γ = 1)."""

    @staticmethod
    def forward(ctx, u, gamma=1.0):
        ctx.save_for_backward(u)
        ctx.gamma = gamma
        return (u > 0).float()

    @staticmethod
    def backward(ctx, g):
        (u,) = ctx.saved_tensors
        gamma = ctx.gamma
        sg = (1 / gamma) * (1 / gamma) * (gamma - u.abs()).clamp(min=0)
        return g * sg, None


class LIF(nn.Module):
    """Multi-step LIF over time-folded [T*B, ...] input, looping single steps (SpikingJelly torch-backend style)."""

    def __init__(self, T, thresh=1.0, tau=0.5, rcs=None):
        super().__init__()
        self.T, self.thresh, self.tau = T, thresh, tau
        self.rcs = rcs  # a list the layer appends its RCS statistic to, or None

    def forward(self, x):
        xs = x.view(self.T, -1, *x.shape[1:])
        v = torch.zeros_like(xs[0])
        out, mem = [], []
        for t in range(self.T):
            h = v + xs[t]                        # charge
            s = ZIF.apply(h - self.thresh)      # fire
            u = h * (1 - s)                     # hard reset (spike not detached)
            v = self.tau * u                    # leak after reset
            out.append(s)
            mem.append(u)
        S = torch.stack(out)
        if self.rcs is not None:
            self.rcs.append(rcs_snn_stat(S, torch.stack(mem), self.thresh))
        return S.flatten(0, 1)


def rcs_ann_stat(x):
    """Spec §4.1: r_n = max over the batch of relu(x) / sqrt(mean over sample n's features of relu(x)² + 1e-5)."""
    xp = F.relu(x).flatten(1)
    return xp.max() / torch.sqrt((xp * xp).mean(1) + 1e-5)


def rcs_tail(T):
    k = int(T * 0.3)
    return T if k == 0 else k


def rcs_snn_stat(S, U, theta):
    T, B = S.shape[:2]
    R = (S + F.relu(U / theta)).reshape(T, B, -1)
    rbar = R[T - rcs_tail(T):].mean(0).detach()
    cos = (R * rbar).sum(2) / (torch.sqrt((R * R).sum(2) + 1e-5) * torch.sqrt((rbar * rbar).sum(1) + 1e-5))
    return 1 / (cos.mean(0) + 1e-5)


def rcs_loss(stats, out, y):
    T = out.shape[0]
    m = (out[T - rcs_tail(T):].argmax(2) == y).all(0).float()  # correct at every step of the tail
    return torch.stack([(r * m).max() for r in stats]).mean()


class TEBN(nn.Module):
    def __init__(self, C, T):
        super().__init__()
        self.T = T
        self.bn = nn.BatchNorm3d(C)
        self.p = nn.Parameter(torch.ones(T, 1, 1, 1, 1))

    def forward(self, x):
        y = x.view(self.T, -1, *x.shape[1:]).permute(1, 2, 0, 3, 4)  # [B, C, T, H, W]
        y = self.bn(y).permute(2, 0, 1, 3, 4)                         # [T, B, C, H, W]
        return (y * self.p).flatten(0, 1)


def vgg_small(route, T=1, rcs=None):
    if route == "ann":
        return vgg_small_layers(nn.BatchNorm2d, lambda: QCFS(rcs=rcs))
    return vgg_small_layers(lambda c: TEBN(c, T), lambda: LIF(T, rcs=rcs))


def ann_case(alpha=0.0):
    torch.manual_seed(0)
    stats = [] if alpha > 0 else None
    net = vgg_small("ann", rcs=stats)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(B, 1, 28, 28)
    y = torch.randint(0, 10, (B,))

    def run():
        out = net(x)
        loss = F.cross_entropy(out, y)
        if stats is not None:
            loss = loss + alpha * rcs_loss(stats, out.unsqueeze(0), y)
            stats.clear()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return run


def snn_case(T=4, lamb=1e-3, means=1.0, alpha=0.0):
    torch.manual_seed(0)
    stats = [] if alpha > 0 else None
    net = vgg_small("snn", T, stats)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(B, 1, 28, 28)
    y = torch.randint(0, 10, (B,))

    def run():
        xt = x.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1)  # static image repeated over time
        out = net(xt).view(T, B, -1)
        # TET loss (Deng et al. 2022)
        ce = sum(F.cross_entropy(out[t], y) for t in range(T)) / T
        mse = F.mse_loss(out, torch.full_like(out, means))
        loss = (1 - lamb) * ce + lamb * mse
        if stats is not None:
            loss = loss + alpha * rcs_loss(stats, out, y)
            stats.clear()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return run


CASES = {
    "train_ann_vgg_small": ann_case,
    "train_ann_vgg_small_rcs": lambda: ann_case(alpha=0.005),
    "train_snn_vgg_small_T4": snn_case,
    "train_snn_vgg_small_T4_rcs": lambda: snn_case(alpha=0.005),
}


def main():
    run_cases(CASES, lambda fn, args: {"torch_ms": round(timed(fn)[0], 4)})


if __name__ == "__main__":
    main()
