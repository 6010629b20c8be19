"""PyTorch peer of bench/cases/infer.ts: single-step inference of a converted IF vgg-small, 8 steps, batch 128.

  infer_snn_vgg_small_T8   vgg-small (conv 32-32-avgpool-64-64-avgpool, fc 256, fc 10; BN kept, eval mode) with
                           every QCFS activation replaced by an IF neuron (θ = 1, soft reset by subtraction, membrane
                           starting at θ/2, strict v > θ, output θ·spike), run one timestep at a time with the state
                           kept between steps (SpikingJelly single-step style), static input presented at every
                           step, under torch.no_grad(). One run = reset + 8 steps.

  infer_snn_lif_tebn_vgg_small_T4
                           the direct-training route's vgg-small: LIF neurons (θ = 1, τ = 0.5 after a hard reset,
                           strict h > θ, membrane starting at 0), TEBN after every conv (BatchNorm2d in eval mode
                           times the step's p_t), single-step with the state kept, under torch.no_grad(). One run =
                           reset + 4 steps.

Usage: python3 infer_vgg_small.py --cases infer_snn_vgg_small_T8 [--threads 2]; prints one JSON line per case
{"case","torch_ms","torch_min_ms"}. The caller (bench/main.ts) sets the tuned environment (OpenBLAS core type, malloc
thresholds) exactly as for the engine and training peers.
"""
import torch
import torch.nn as nn

from common import run_cases, timed, vgg_small

B = 128
T = 8


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


class LIF(nn.Module):
    """Single-step LIF neuron with explicit state (hard reset, v0 = 0, decay τ after the reset, output S)."""

    def __init__(self, thresh=1.0, tau=0.5):
        super().__init__()
        self.thresh = thresh
        self.tau = tau
        self.v = None

    def reset(self):
        self.v = None

    def forward(self, x):
        h = x if self.v is None else self.v + x
        s = (h > self.thresh).to(x.dtype)
        self.v = self.tau * (h * (1.0 - s))
        return s


class TEBNEval(nn.Module):
    """TEBN in eval mode, one step at a time: BatchNorm2d (running statistics) times p_t of the current step."""

    def __init__(self, c, steps=4):
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.p = torch.ones(steps)
        self.t = 0

    def reset(self):
        self.t = 0

    def forward(self, x):
        y = self.bn(x) * self.p[self.t]
        self.t += 1
        return y


def vgg_small_if():
    return vgg_small(nn.BatchNorm2d, IF).eval()


def single_step_run(net, steps, stateful_types):
    """One run: reset every stateful layer, then `steps` timesteps on a static batch, outputs accumulated."""
    x = torch.randn(B, 1, 28, 28)
    stateful = [m for m in net.modules() if isinstance(m, stateful_types)]

    def run():
        with torch.no_grad():
            for m in stateful:
                m.reset()
            acc = None
            for _ in range(steps):
                o = net(x)
                acc = o if acc is None else acc + o
        return acc
    return run


def infer_case():
    torch.manual_seed(0)
    return single_step_run(vgg_small_if(), T, IF)


def lif_tebn_case(steps=4):
    torch.manual_seed(0)
    return single_step_run(vgg_small(lambda c: TEBNEval(c, steps), LIF).eval(), steps, (LIF, TEBNEval))


CASES = {"infer_snn_vgg_small_T8": infer_case, "infer_snn_lif_tebn_vgg_small_T4": lif_tebn_case}


def main():
    def measure(fn, args):
        ms, best = timed(fn)
        return {"torch_ms": round(ms, 4), "torch_min_ms": round(best, 4)}
    run_cases(CASES, measure)


if __name__ == "__main__":
    main()
