/**
 * Input of the cost accounting (the contract with the model layer, which fills it from live spike
 * monitors; users of other frameworks can fill it from their own counters).
 *
 * ```ts
 * const input: CostInput = {
 *   layers: [
 *     { name: "conv1", neurons: 65536, fanOut: 0, macsFirstLayer: 1769472 }, // analog input layer: MACs per step
 *     { name: "lif1",  neurons: 65536, fanOut: 576 },   // each spike reaches 576 synapses of the next layer
 *     { name: "lif2",  neurons: 4096,  fanOut: 10 },
 *   ],
 *   spikes: [[[0, 812, 95], ...N samples], ...T steps], // spikes[t][n][l]: spike count of layer l, sample n, step t
 * };
 * ```
 * Definitions (spec §11, the clean ones; the reference's counters are not reproduced):
 *  - spikes are binary event counts (not θ-weighted);
 *  - SOPs (synaptic operations, accumulates) = Σ_{t ≤ t*} Σ_l spikes[t][n][l] · fanOut_l, or the exact
 *    per-(t, n, l) `sops` when given (per-neuron fan-outs summed over the neurons that fired, border effects
 *    included);
 *  - MACs = Σ_l macsFirstLayer_l · t* (the non-spiking first layer processes the analog input every step);
 *  - firing rate of layer l = spikes / (neurons_l · timesteps run);
 *  - everything is summed only up to each sample's stop time t* under cutoff, and over all T for the full run.
 */

export interface LayerDescription {
  /** Display name, e.g. "conv1.lif". */
  name: string;
  /** Number of spiking neurons in the layer (per sample), for firing rates. 0 for a non-spiking layer. */
  neurons: number;
  /**
   * Synapses reached by one spike of this layer (average fan-out: #weights of the next layer /
   * #neurons here, or exact when uniform). Ignored when `CostInput.sops` is given.
   */
  fanOut: number;
  /** MACs per sample per timestep done on analog (non-spike) input by this layer; only the first layer has it. */
  macsFirstLayer?: number;
}

/** Nested [T][N][L] numbers, or a flat row-major array with its shape. */
export type CountArray = number[][][] | { data: ArrayLike<number>; shape: [number, number, number] };

export interface CostInput {
  layers: LayerDescription[];
  /** spikes[t][n][l]: spike count of layer l for sample n at timestep t (0-based t). */
  spikes: CountArray;
  /** Optional exact synaptic operations per [t][n][l]; overrides spikes × fanOut. */
  sops?: CountArray;
}

/** Energy per operation, in picojoules. An ASSUMPTION, not a measurement. */
export interface EnergyModel {
  /** Energy of one accumulate (one SOP). Default 0.9 pJ (45 nm CMOS, Horowitz 2014, as used in SNN papers). */
  pjPerAC: number;
  /** Energy of one multiply-accumulate. Default 4.6 pJ (45 nm, same source). */
  pjPerMAC: number;
}

export const DEFAULT_ENERGY: EnergyModel = { pjPerAC: 0.9, pjPerMAC: 4.6 };

/** A full-run vs under-cutoff pair of per-sample averages. */
export interface FullVsCutoff {
  full: number;
  cutoff: number;
}

export interface LayerCost {
  name: string;
  neurons: number;
  fan_out: number;
  spikes_per_sample: FullVsCutoff;
  /** Spikes per neuron per timestep. */
  firing_rate: FullVsCutoff;
  sops_per_sample: FullVsCutoff;
  macs_per_sample: FullVsCutoff;
  /** Mean spikes per sample at each timestep t = 1..T over the full run (all samples). */
  spikes_per_timestep: number[];
  /**
   * Mean spikes per sample at each timestep t = 1..T under cutoff: at t only samples whose stop time is
   * >= t contribute, but the mean is over all N samples (so it sums to `spikes_per_sample.cutoff`).
   */
  spikes_per_timestep_cutoff: number[];
}

export interface CostReport {
  T: number;
  N: number;
  /** Stated so nobody mistakes the energy for a measurement. */
  assumption: string;
  energy_model: EnergyModel;
  layers: LayerCost[];
  totals: {
    spikes_per_sample: FullVsCutoff;
    sops_per_sample: FullVsCutoff;
    macs_per_sample: FullVsCutoff;
    /** pJ per sample = MACs · pjPerMAC + SOPs · pjPerAC. */
    energy_pj_per_sample: FullVsCutoff;
    mean_timestep: FullVsCutoff;
  };
}
