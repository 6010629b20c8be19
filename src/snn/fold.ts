/**
 * BN folding for converted (eval-mode) networks: conv/linear followed by BatchNorm becomes one conv/linear with
 * w' = w·γ/√(σ²+ε), b' = (b − μ)·γ/√(σ²+ε) + β, and the BN becomes Identity. Exact in eval mode (spec §5.3),
 * and it saves a pass over every feature map at every timestep. TEBN (per-step scale) is left alone.
 */
import { Module } from "../nn/module.js";
import { Sequential } from "../nn/sequential.js";
import { Conv2d } from "../nn/conv.js";
import { Linear } from "../nn/linear.js";
import { BatchNormBase } from "../nn/batchnorm.js";
import { Identity } from "../nn/activation.js";
import { BasicBlock } from "../nn/residual.js";

function foldable(a: Module, b: Module): b is BatchNormBase {
  return (a instanceof Conv2d || a instanceof Linear) && b instanceof BatchNormBase;
}

/** Folds in place; returns the number of BN layers removed. */
export function foldBatchNorm(root: Module): number {
  let n = 0;
  for (const m of root.modules()) {
    if (m instanceof Sequential) {
      for (let i = 0; i + 1 < m.length; i++) {
        const a = m.at(i);
        const b = m.at(i + 1);
        if (foldable(a, b)) {
          const { scale, shift } = b.evalAffine();
          (a as Conv2d | Linear).foldAffine(scale, shift);
          m.set(i + 1, new Identity());
          n++;
        }
      }
    } else if (m instanceof BasicBlock) {
      for (const [c, bn] of [["conv1", "bn1"], ["conv2", "bn2"]] as const) {
        const b = m[bn];
        if (foldable(m[c], b)) {
          const { scale, shift } = b.evalAffine();
          m[c].foldAffine(scale, shift);
          m.replaceChild(bn, new Identity());
          n++;
        }
      }
    }
  }
  return n;
}
