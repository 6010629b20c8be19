/**
 * A trainable tensor. The weightDecay flag travels with the tensor so that optimisers can exclude batch-norm
 * affine terms and thresholds (QCFS λ, TEBN p_t) without knowing which module owns them.
 */
import { Tensor } from "../engine/tensor.js";

export interface ParameterOptions {
  /** Whether optimisers apply weight decay to this tensor (default true; false for BN γ/β and thresholds). */
  weightDecay?: boolean;
}

export class Parameter extends Tensor {
  weightDecay: boolean;

  constructor(init: Tensor, opts: ParameterOptions = {}) {
    // own the storage: a parameter is mutated in place by optimisers and loadStateDict
    super(new Float32Array(init.data), init.shape, true);
    this.weightDecay = opts.weightDecay ?? true;
  }

  override toString(): string {
    return `Parameter(${JSON.stringify(this.shape)}${this.weightDecay ? "" : ", no weight decay"})`;
  }
}
