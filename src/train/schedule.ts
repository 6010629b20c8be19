/**
 * Learning-rate schedules with an optional linear warm-up.
 *
 * - `cosine`, `per: "epoch"` (the reference: PyTorch CosineAnnealingLR(T_max = epochs, eta_min) stepped once per
 *   epoch): lr(e) = minLr + (base − minLr)·(1 + cos(π·e/E))/2 for the whole of epoch e (0-based).
 * - `cosine`, `per: "step"`: the same curve evaluated at the fractional position step/totalSteps.
 * - `step`: lr = base·gamma^floor(e/stepSize) (or per step when per = "step", stepSize counted in epochs still).
 * - `constant`.
 * Warm-up (warmupEpochs > 0, may be fractional): over the first W = warmupEpochs·stepsPerEpoch steps the lr rises
 * linearly, lr = base·(s+1)/W at global step s; the main schedule then runs over the remaining epochs, so the
 * cosine reaches minLr at the end of training either way.
 */

export interface ScheduleOptions {
  type: "cosine" | "step" | "constant";
  baseLr: number;
  epochs: number;
  stepsPerEpoch: number;
  per?: "epoch" | "step";
  warmupEpochs?: number;
  minLr?: number;
  /** step schedule: epochs between decays. */
  stepSize?: number;
  /** step schedule: multiplicative decay. */
  gamma?: number;
}

export class LrSchedule {
  constructor(readonly opts: ScheduleOptions) {
    if (!(opts.stepsPerEpoch > 0)) throw new Error(`schedule: stepsPerEpoch must be > 0, got ${opts.stepsPerEpoch}`);
    if (!(opts.epochs > 0)) throw new Error(`schedule: epochs must be > 0, got ${opts.epochs}`);
    if ((opts.warmupEpochs ?? 0) >= opts.epochs) {
      throw new Error(`schedule: warmupEpochs (${opts.warmupEpochs}) must be smaller than epochs (${opts.epochs})`);
    }
  }

  /** The learning rate for the given 0-based global step (step = epoch·stepsPerEpoch + index in epoch). */
  lrAt(globalStep: number): number {
    const o = this.opts;
    const spe = o.stepsPerEpoch;
    const warmSteps = Math.round((o.warmupEpochs ?? 0) * spe);
    if (globalStep < warmSteps) return (o.baseLr * (globalStep + 1)) / warmSteps;
    const per = o.per ?? "epoch";
    const totalSteps = o.epochs * spe - warmSteps;
    const s = globalStep - warmSteps;
    // position within the main schedule, in epochs
    const epochsMain = totalSteps / spe;
    const pos = per === "epoch" ? Math.floor(s / spe) : s / spe;
    const minLr = o.minLr ?? 0;
    switch (o.type) {
      case "constant":
        return o.baseLr;
      case "cosine": {
        const frac = Math.min(pos / epochsMain, 1);
        return minLr + ((o.baseLr - minLr) * (1 + Math.cos(Math.PI * frac))) / 2;
      }
      case "step": {
        const size = o.stepSize ?? 30;
        const gamma = o.gamma ?? 0.1;
        return o.baseLr * Math.pow(gamma, Math.floor(pos / size));
      }
    }
  }
}
