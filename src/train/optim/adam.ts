/**
 * Adam and AdamW (PyTorch's update rules), on the backend's fused `adamStep`:
 *   Adam:  g' = g + wd·p (L2);        AdamW: p -= lr·wd·p (decoupled)
 *   m = β1·m + (1−β1)·g';  v = β2·v + (1−β2)·g'²;  p -= lr · (m/(1−β1^t)) / (sqrt(v/(1−β2^t)) + eps)
 * Step counts are per parameter (a parameter that got no gradient does not advance), as in PyTorch.
 */
import { noGrad } from "../../engine/autograd.js";
import { getBackend } from "../../engine/backends.js";
import { Optimiser, type OptimiserState, type ParamsInput } from "./optimizer.js";

export interface AdamOptions {
  lr: number;
  betas?: [number, number];
  eps?: number;
  weightDecay?: number;
  /** true (AdamW, default): decoupled weight decay; false (Adam): L2 added to the gradient. */
  decoupled?: boolean;
  decayAll?: boolean;
}

export class Adam extends Optimiser {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly decoupled: boolean;
  private m = new Map<string, Float32Array>();
  private v = new Map<string, Float32Array>();
  private steps = new Map<string, number>();

  constructor(params: ParamsInput, opts: AdamOptions) {
    super(params, opts);
    [this.beta1, this.beta2] = opts.betas ?? [0.9, 0.999];
    this.eps = opts.eps ?? 1e-8;
    this.decoupled = opts.decoupled ?? true;
    for (const b of [this.beta1, this.beta2]) {
      if (!(b >= 0 && b < 1)) throw new Error(`Adam: betas must lie in [0, 1), got [${this.beta1}, ${this.beta2}]`);
    }
  }

  get type(): string {
    return this.decoupled ? "adamw" : "adam";
  }

  step(): void {
    const be = getBackend();
    noGrad(() => {
      for (const p of this.params) {
        const g = p.param.grad;
        if (!g) continue;
        let m = this.m.get(p.name);
        let v = this.v.get(p.name);
        if (!m || !v) {
          m = new Float32Array(p.param.size);
          v = new Float32Array(p.param.size);
          this.m.set(p.name, m);
          this.v.set(p.name, v);
        }
        const t = (this.steps.get(p.name) ?? 0) + 1;
        this.steps.set(p.name, t);
        be.adamStep(p.param.data, g.data, m, v, this.lr, this.beta1, this.beta2, this.eps, this.decayFor(p), t, this.decoupled);
      }
    });
  }

  stateDict(): OptimiserState {
    const buffers = new Map<string, Float32Array>();
    for (const [k, b] of this.m) buffers.set(`${k}.exp_avg`, new Float32Array(b));
    for (const [k, b] of this.v) buffers.set(`${k}.exp_avg_sq`, new Float32Array(b));
    return {
      type: this.type,
      scalars: {
        lr: this.lr,
        betas: [this.beta1, this.beta2],
        eps: this.eps,
        weightDecay: this.weightDecay,
        decayAll: this.decayAll,
        steps: Object.fromEntries(this.steps),
      },
      buffers,
    };
  }

  loadStateDict(state: OptimiserState): void {
    this.checkState(state, this.type);
    this.m.clear();
    this.v.clear();
    this.steps.clear();
    const steps = (state.scalars.steps ?? {}) as Record<string, number>;
    for (const p of this.params) {
      const m = this.loadBuffer(state, `${p.name}.exp_avg`, p.param.size);
      const v = this.loadBuffer(state, `${p.name}.exp_avg_sq`, p.param.size);
      if (m && v) {
        this.m.set(p.name, m);
        this.v.set(p.name, v);
        this.steps.set(p.name, steps[p.name] ?? 0);
      }
    }
    if (typeof state.scalars.lr === "number") this.lr = state.scalars.lr;
  }
}
