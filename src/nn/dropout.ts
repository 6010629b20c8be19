import type { Tensor } from "../engine/tensor.js";
import { Rng, globalRng } from "../engine/random.js";
import { dropout } from "../engine/index.js";
import { Module } from "./module.js";

/** Inverted dropout: active only in training mode; its own Rng so masks are reproducible under a seed. */
export class Dropout extends Module {
  constructor(readonly p = 0.5, readonly rng: Rng = globalRng) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, true, this.rng);
  }
  override describe(): string {
    return `Dropout(p=${this.p})`;
  }
}
