/**
 * SGD with momentum (and Nesterov), PyTorch's update rule (dampening 0), on the backend's fused `sgdStep`:
 *   g' = g + wd·p;  buf = g' on the first step, else momentum·buf + g';  p -= lr·(nesterov ? g' + momentum·buf : buf)
 */
import { noGrad } from "../../engine/autograd.js";
import { getBackend } from "../../engine/backends.js";
import { Optimiser, type OptimiserState, type ParamsInput } from "./optimizer.js";

export interface SgdOptions {
  lr: number;
  momentum?: number;
  weightDecay?: number;
  nesterov?: boolean;
  /** Apply weight decay to parameters flagged weightDecay=false too (the reference code's behaviour). */
  decayAll?: boolean;
}

export class SGD extends Optimiser {
  readonly momentum: number;
  readonly nesterov: boolean;
  private buf = new Map<string, Float32Array>();

  constructor(params: ParamsInput, opts: SgdOptions) {
    super(params, opts);
    this.momentum = opts.momentum ?? 0;
    this.nesterov = opts.nesterov ?? false;
    if (!(this.momentum >= 0)) throw new Error(`SGD: momentum must be >= 0, got ${opts.momentum}`);
    if (this.nesterov && this.momentum <= 0) throw new Error("SGD: nesterov needs momentum > 0");
  }

  step(): void {
    const be = getBackend();
    noGrad(() => {
      for (const p of this.params) {
        const g = p.param.grad;
        if (!g) continue;
        let buf = this.buf.get(p.name);
        const first = buf === undefined;
        if (!buf) {
          buf = new Float32Array(p.param.size);
          this.buf.set(p.name, buf);
        }
        // momentum 0: the kernel's buffer is just g' and the update p -= lr·g'
        be.sgdStep(p.param.data, g.data, buf, this.lr, this.momentum, this.decayFor(p), this.nesterov, first || this.momentum === 0);
      }
    });
  }

  stateDict(): OptimiserState {
    const buffers = new Map<string, Float32Array>();
    for (const [k, v] of this.buf) buffers.set(`${k}.momentum`, new Float32Array(v));
    return {
      type: "sgd",
      scalars: { lr: this.lr, momentum: this.momentum, nesterov: this.nesterov, weightDecay: this.weightDecay, decayAll: this.decayAll },
      buffers,
    };
  }

  loadStateDict(state: OptimiserState): void {
    this.checkState(state, "sgd");
    this.buf.clear();
    for (const p of this.params) {
      const b = this.loadBuffer(state, `${p.name}.momentum`, p.param.size);
      if (b) this.buf.set(p.name, b);
    }
    if (typeof state.scalars.lr === "number") this.lr = state.scalars.lr;
  }
}
