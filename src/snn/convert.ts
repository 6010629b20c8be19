/**
 * ANN → SNN conversion (spec §5.3), done as intended (not like the reference's HEAD, §12.9, whose converted
 * neurons silently fall back to θ = 1, hard reset, multi-step):
 *   every QCFS / ClipReLU → IF neuron with θ = λ of that layer, soft reset, v0 = θ/2, output θ·S;
 *   conv / linear / BN / pooling weights copied unchanged (BN kept per step, or folded with foldBatchNorm);
 *   the converted model is in eval mode and single-step mode (anytime inference).
 */
import { buildModel } from "../models/build.js";
import type { SpikingModel } from "../models/spiking-model.js";
import type { Tensor } from "../engine/tensor.js";
import type { StepMode } from "./temporal.js";
import { foldBatchNorm } from "./fold.js";

export interface ConvertOptions {
  /** Number of timesteps the converted network runs by default (static inputs are repeated T times). */
  T?: number;
  /** Fold BN into the preceding conv/linear (exact in eval mode). Default false (BN kept per step). */
  foldBatchNorm?: boolean;
  /** Default "single" (state kept between step() calls); "multi" runs all T at once through the fused op. */
  stepMode?: StepMode;
}

export function convertToSNN(ann: SpikingModel, opts: ConvertOptions = {}): SpikingModel {
  const o = ann.options;
  if (o.route !== "ann") throw new Error(`convertToSNN: ${ann.spec.name} is already an SNN (route "${o.route}")`);
  if (o.activation === "relu") {
    throw new Error(`convertToSNN: ${ann.spec.name} uses ReLU; conversion needs QCFS or ClipReLU activations whose trained λ becomes the IF threshold`);
  }
  const snn = buildModel(ann.spec, {
    ...o,
    route: "snn",
    neuron: "if",
    tebn: false,
    T: opts.T ?? 8,
    foldBatchNorm: false,
  });
  const src: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(ann.stateDict())) src[k.endsWith(".lambda") ? `${k.slice(0, -".lambda".length)}.theta` : k] = t;
  snn.loadStateDict(src, { context: `convertToSNN(${ann.spec.name})` });
  if (opts.foldBatchNorm) {
    foldBatchNorm(snn.net);
    // clone() rebuilds from the options: record the folding so the structure (and state-dict keys) match
    snn.options.foldBatchNorm = true;
  }
  snn.eval().setStepMode(opts.stepMode ?? "single");
  return snn;
}
