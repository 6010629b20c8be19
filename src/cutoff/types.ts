/**
 * Core data types of the cutoff layer. No tensor engine: plain typed arrays, time-major.
 *
 * Layout conventions (paper-spec §1):
 *  - `Y[T, N, K]` flattened row-major: element (t, n, k) is at `(t * N + n) * K + k`.
 *  - `Y(t)` is the ACCUMULATED output: the running float32 sum of the per-step outputs O_1..O_t
 *    (the reference convention; a sum, not a mean).
 *  - Timesteps are 0-based in code and 1-based in every reported value (`index + 1`).
 */

/**
 * Accumulated outputs of one split (calibration or test) plus labels.
 * Treat it as immutable: per-(t, n) features (gaps, softmax sums, argmax) are cached per object, so build a
 * new object (`{ ...out, Y: newY }`) rather than writing into `Y`.
 */
export interface CutoffOutputs {
  /** Number of timesteps. */
  readonly T: number;
  /** Number of samples. */
  readonly N: number;
  /** Number of classes (>= 2). */
  readonly K: number;
  /** Accumulated outputs Y[T, N, K] (float32, sum over steps 1..t). */
  readonly Y: Float32Array;
  /** Integer class labels, length N, each in [0, K). */
  readonly labels: Int32Array;
}

/** A loaded evaluation input: an optional calibration split and the test split. */
export interface OutputsDataset {
  /** Where it came from (file path or a description), used in error messages and reports. */
  readonly source: string;
  readonly calibration: CutoffOutputs | null;
  readonly test: CutoffOutputs;
}

/** Whether a file holds per-step outputs O_t (default; spikecut accumulates) or already-accumulated Y(t). */
export type Accumulation = "per-step" | "accumulated";

/** Per-sample stop times, 1-based, length N. */
export type StopTimes = Int32Array;

/** Result of applying a stop-time vector to a split. */
export interface Evaluation {
  /** Fraction of samples whose argmax Y(t*_n) equals the label. */
  accuracy: number;
  /** Mean of the 1-based stop times. */
  mean_timestep: number;
  /** Per-sample 1-based stop times. */
  timesteps: number[];
}
