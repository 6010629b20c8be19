"""PyTorch peers of bench/cases/train.ts's ResNet cases: one training step of resnet20 on 3x32x32 (CIFAR-shaped),
median of warm runs, in PyTorch's faster memory format (NCHW and channels_last are both timed, as the conv cases do).

  train_ann_resnet20     QCFS ANN (L=4, λ init 8, straight-through floor) at batch 128, BN, CE loss, SGD momentum step
  train_snn_resnet20_T4  LIF + TEBN (as train_vgg_small.py) at batch 32, T=4, TET loss, static input repeated

resnet20: conv3x3(3→16)-BN-act, three stages of three BasicBlocks (16, 32, 64 channels; the first block of stages 2
and 3 has stride 2 and a conv1x1(stride 2)-BN shortcut), each block conv3x3-BN-act-conv3x3-BN, plus the shortcut,
then act; global average pooling, fc 64→10. Convolutions without bias, as spikecut's preset.

Usage: python3 train_resnet20.py --cases name1,name2 [--threads 2]; prints one JSON line per case {"case","torch_ms"}.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from common import run_cases, timed
from train_vgg_small import LIF, QCFS, TEBN


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride, norm, act):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1, self.act1 = norm(cout), act()
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2, self.act2 = norm(cout), act()
        self.shortcut = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), norm(cout))
                         if stride != 1 or cin != cout else nn.Identity())

    def forward(self, x):
        r = self.bn2(self.conv2(self.act1(self.bn1(self.conv1(x)))))
        return self.act2(r + self.shortcut(x))


def resnet20(norm, act):
    layers = [nn.Conv2d(3, 16, 3, 1, 1, bias=False), norm(16), act()]
    cin = 16
    for si, ch in enumerate([16, 32, 64]):
        for b in range(3):
            layers.append(BasicBlock(cin, ch, 2 if b == 0 and si > 0 else 1, norm, act))
            cin = ch
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    return nn.Sequential(*layers)


def step_fn(route, B, T, memory_format):
    torch.manual_seed(0)
    if route == "ann":
        net = resnet20(nn.BatchNorm2d, QCFS)
    else:
        net = resnet20(lambda c: TEBN(c, T), lambda: LIF(T))
    for m in net.modules():
        if isinstance(m, nn.Conv2d):  # TEBN's 5-D scale cannot take a 4-D memory format
            m.to(memory_format=memory_format)
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.randn(B, 3, 32, 32)
    y = torch.randint(0, 10, (B,))
    xt = x.unsqueeze(0).repeat(T, 1, 1, 1, 1).flatten(0, 1).contiguous(memory_format=memory_format)

    def run():
        out = net(xt)
        if route == "ann":
            loss = F.cross_entropy(out, y)
        else:
            out = out.view(T, B, -1)
            ce = sum(F.cross_entropy(out[t], y) for t in range(T)) / T
            loss = (1 - 1e-3) * ce + 1e-3 * F.mse_loss(out, torch.full_like(out, 1.0))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return run


def both_layouts(route, B, T):
    return {"nchw": step_fn(route, B, T, torch.contiguous_format), "channels_last": step_fn(route, B, T, torch.channels_last)}


CASES = {
    "train_ann_resnet20": lambda: both_layouts("ann", 128, 1),
    "train_snn_resnet20_T4": lambda: both_layouts("snn", 32, 4),
}


def main():
    def measure(fns, args):
        results = {name: timed(f) for name, f in fns.items()}
        name = min(results, key=lambda k: results[k][0])
        ms, best = results[name]
        return {"torch_ms": round(ms, 4), "torch_min_ms": round(best, 4), "torch_layout": name,
                "torch_ms_by_layout": {k: round(v[0], 3) for k, v in results.items()}}
    run_cases(CASES, measure)


if __name__ == "__main__":
    main()
