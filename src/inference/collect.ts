/**
 * Per-step outputs of a live model, in the cutoff layer's format (the "calibration and evaluation hook-up"):
 *
 *   const { outputs, cost } = collectOutputs(model, split, { T: 8, batchSize: 128, calibrationDropout: 0.3 });
 *
 * runs the model over the data in batches under noGrad and returns the ACCUMULATED outputs Y[T, N, K]
 * (float32 running sum, Y(t) = fl32(Y(t-1) + O_t), the reference convention) with the labels, plus the per-step
 * outputs O[T, N, K] and, with `monitors`, the spike/SOP counts as the cost accounting's CostInput.
 *
 * Step modes (spec §5.3, §5.4): every SNN runs single-step by default (state kept between steps, exactly what
 * anytime inference does; TEBN too: in eval each step applies its own p_t, unlike the reference, spec §12.11), which
 * is 10-20 % faster here than time-folded batches of T·B rows, whose activations do not stay in cache between
 * layers; multi-step (the fused op) on request gives identical results, calibration dropout included (tested).
 * Static images are repeated over T; event frames [B, T, C, H, W] are fed one frame per step.
 *
 * Calibration (spec §3.4, §3.5): the training split with calibration dropout (default 0.3 in the CLI: inverted
 * dropout on every spiking layer's output, fresh mask per step, BN in eval mode); test: the clean network
 * (calibrationDropout 0, the default of this function).
 */
import { noGrad } from "../engine/autograd.js";
import { tidy } from "../engine/memory.js";
import { Rng } from "../engine/random.js";
import { Tensor } from "../engine/tensor.js";
import { repeatTime } from "../engine/index.js";
import { setCalibrationDropout } from "../snn/calibration.js";
import type { StepMode } from "../snn/temporal.js";
import type { SpikingModel } from "../models/spiking-model.js";
import type { CostInput, CutoffOutputs } from "../cutoff/index.js";
import { batchesOf, countOf, frameAt, type InferenceData } from "./data.js";

/** The reference's calibration dropout (spec §3.4). */
export const DEFAULT_CALIBRATION_DROPOUT = 0.3;

export interface CollectOptions {
  /** Timesteps (default: the model's T). */
  T?: number;
  /** Default 128. */
  batchSize?: number;
  /** Inverted dropout on every spiking layer's output while collecting (calibration); default 0 (clean). */
  calibrationDropout?: number;
  /** Seed of the calibration-dropout masks. Default 0. */
  seed?: number;
  /** Record spikes and SOPs per layer, step and sample (returned as `cost`). Default false. */
  monitors?: boolean;
  /** Use only the first `limit` samples. */
  limit?: number;
  /** Force a step mode (default: single for IF networks, multi for LIF/TEBN networks). */
  stepMode?: StepMode;
  /** Called after every batch with (samples done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface CollectResult {
  /** Accumulated outputs (sum convention) and labels. */
  outputs: CutoffOutputs;
  /** Per-step outputs O[T, N, K] (float32, what the model emitted at each step). */
  perStep: Float32Array;
  /** Spike/SOP counts for the cost accounting (with `monitors`). */
  cost?: CostInput;
  stepMode: StepMode;
  wallMs: number;
}

/**
 * Which step mode a model is run in by default: single-step for every SNN (converted IF: 1310 vs 1548 ms for 512
 * samples of vgg-small at T = 8; LIF + TEBN: 1364-1403 vs 1482-1804 ms for 1024 samples at T = 4 with calibration
 * dropout; interleaved runs, identical outputs).
 */
export function defaultStepMode(_model: SpikingModel): StepMode {
  return "single";
}

/** Throws a clear error for models that cannot produce per-step outputs (an ANN must be converted first). */
export function checkSpiking(model: SpikingModel, what: string): void {
  if (model.route !== "snn") {
    throw new Error(`${what}: ${model.spec.name} is a QCFS ANN (route "ann"); convert it to an SNN first (convertToSNN / spikecut convert)`);
  }
}

export function collectOutputs(model: SpikingModel, data: InferenceData, opts: CollectOptions = {}): CollectResult {
  checkSpiking(model, "collectOutputs");
  const T = opts.T ?? model.T;
  if (!(Number.isInteger(T) && T >= 1)) throw new RangeError(`collectOutputs: T must be a positive integer, got ${T}`);
  const batchSize = opts.batchSize ?? 128;
  const mode = opts.stepMode ?? defaultStepMode(model);
  // a TEBN network runs single-step in eval (each step its own p_t) and multi-step only at the T it was built for
  if (model.options.tebn && (mode === "multi" ? T !== model.T : T > model.T)) {
    throw new RangeError(`collectOutputs: ${model.spec.name} uses TEBN built for T=${model.T}; it cannot run T=${T}${mode === "multi" ? " multi-step" : ""}`);
  }
  const p = opts.calibrationDropout ?? 0;
  if (!(p >= 0 && p < 1)) throw new RangeError(`collectOutputs: calibrationDropout must be in [0, 1), got ${p}`);
  const N = countOf(data, opts.limit);
  if (N === 0) throw new RangeError("collectOutputs: no samples");
  const K = model.numClasses;
  const perStep = new Float32Array(T * N * K);
  const labels = new Int32Array(N);

  const prevMode = model.stepMode;
  const wasTraining = model.training;
  const monitorsWere = model.monitors.enabled;
  model.eval();
  model.setStepMode(mode);
  if (opts.monitors) {
    model.monitors.clear();
    model.monitors.enable();
  } else model.monitors.disable();
  const undo = p > 0 ? setCalibrationDropout(model, p, new Rng(opts.seed ?? 0)) : () => {};
  const t0 = performance.now();
  let cost: CostInput | undefined;
  try {
    noGrad(() => {
      let off = 0;
      for (const b of batchesOf(data, batchSize, opts.limit)) {
        // activations of this batch return to the pool when it is done
        tidy(() => {
          const B = b.labels.length;
          labels.set(b.labels, off);
          const frameShape = b.temporal ? [B, ...b.shape.slice(2)] : b.shape;
          if (b.temporal && b.shape[1] !== T) throw new RangeError(`collectOutputs: event batch has ${b.shape[1]} frames per sample, T is ${T}`);
          const put = (t: number, o: Float32Array): void => {
            for (let i = 0; i < B; i++) perStep.set(o.subarray(i * K, (i + 1) * K), (t * N + off + i) * K);
          };
          if (mode === "single") {
            model.resetState();
            const xs = b.temporal ? null : new Tensor(b.x, frameShape);
            for (let t = 0; t < T; t++) {
              const xt = xs ?? new Tensor(frameAt(b.x, b.shape, t), frameShape);
              put(t, model.step(xt).data);
            }
            model.resetState();
          } else {
            let x: Tensor;
            if (b.temporal) {
              // [B, T, ...] -> [T, B, ...]
              const per = b.x.length / (B * T);
              const d = new Float32Array(b.x.length);
              for (let i = 0; i < B; i++) for (let t = 0; t < T; t++) d.set(b.x.subarray((i * T + t) * per, (i * T + t + 1) * per), (t * B + i) * per);
              x = new Tensor(d, [T, ...frameShape]);
            } else x = repeatTime(new Tensor(b.x, b.shape), T);
            const o = model.forward(x).data;
            for (let t = 0; t < T; t++) put(t, o.subarray(t * B * K, (t + 1) * B * K));
          }
          off += B;
          opts.onProgress?.(off, N);
        });
      }
    });
    if (opts.monitors) cost = model.monitors.toCostInput();
  } finally {
    undo();
    model.setStepMode(prevMode);
    model.train(wasTraining);
    model.monitors.enable(monitorsWere);
  }
  const wallMs = performance.now() - t0;
  // Y(t) = fl32(Y(t-1) + O_t), sequentially (what outputsFromFlat and anytime inference do)
  const Y = new Float32Array(perStep.length);
  const NK = N * K;
  Y.set(perStep.subarray(0, NK));
  for (let t = 1; t < T; t++) for (let i = 0, o = t * NK; i < NK; i++) Y[o + i] = Y[o - NK + i]! + perStep[o + i]!;
  for (let i = 0; i < Y.length; i++) {
    if (!Number.isFinite(Y[i]!)) throw new Error(`collectOutputs: the model produced a non-finite output (${Y[i]}) at t=${Math.floor(i / NK) + 1}`);
  }
  return { outputs: { T, N, K, Y, labels }, perStep, cost, stepMode: mode, wallMs };
}

/** Calibration (training split, with calibration dropout) and test (clean) outputs in one call. */
export function collectSplits(
  model: SpikingModel,
  data: { calibration: InferenceData; test: InferenceData },
  opts: CollectOptions & { calibrationLimit?: number; testLimit?: number } = {},
): { calibration: CollectResult; test: CollectResult } {
  const calibration = collectOutputs(model, data.calibration, {
    ...opts,
    limit: opts.calibrationLimit ?? opts.limit,
    calibrationDropout: opts.calibrationDropout ?? DEFAULT_CALIBRATION_DROPOUT,
    monitors: false,
  });
  const test = collectOutputs(model, data.test, { ...opts, limit: opts.testLimit ?? opts.limit, calibrationDropout: 0 });
  return { calibration, test };
}
