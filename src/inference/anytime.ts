/**
 * Anytime inference that really stops (issue 6): the model runs in single-step mode; after every step the
 * accumulated output Y(t) = fl32(Y(t-1) + O_t) of each active sample goes to the policy's online rule
 * `fires(state, Y(t), t)`; samples that fire are finished (prediction argmax Y(t), first maximal index) and LEAVE
 * the batch (`model.selectSamples(rows)` drops their neuron state, their input rows are dropped too), so the next
 * step computes only the samples still running. Everything stops at T.
 *
 * Because the network is causal and the rule only reads Y(t), the predictions and stop times equal the post-hoc
 * `policy.decide` on `collectOutputs` of the same model on the same data (tested exactly), and the number of
 * sample-steps computed equals the sum of the stop times.
 */
import { noGrad } from "../engine/autograd.js";
import { tidy } from "../engine/memory.js";
import { Tensor } from "../engine/tensor.js";
import type { SpikingModel } from "../models/spiking-model.js";
import { argmaxOfRow, getPolicy, type CutoffPolicy, type PolicyName, type PolicyStateBase } from "../cutoff/index.js";
import { batchesOf, countOf, frameAt, gatherSampleRows, type InferenceData } from "./data.js";
import { checkSpiking } from "./collect.js";

export interface AnytimeOptions {
  policy: PolicyName | CutoffPolicy<PolicyStateBase>;
  /** The calibrated policy state (policy.calibrate(...) or a state stored in a checkpoint). */
  state: PolicyStateBase;
  /** Maximum timesteps (default: the model's T). */
  T?: number;
  /** Default 128. */
  batchSize?: number;
  /** Use only the first `limit` samples. */
  limit?: number;
  /** Count spikes and SOPs of the work actually done, per sample. Default false. */
  monitors?: boolean;
  /** Called after every batch with (samples done, total). */
  onProgress?: (done: number, total: number) => void;
}

export interface AnytimeResult {
  /** argmax of Y(t*) per sample. */
  predictions: Int32Array;
  /** 1-based stop times t*. */
  timesteps: Int32Array;
  labels: Int32Array;
  /** Fraction of correct predictions (labels come with the data). */
  accuracy: number;
  meanTimestep: number;
  T: number;
  /** Wall-clock of the whole run (data assembly included), ms. */
  wallMs: number;
  /** Sample-steps actually computed (= Σ timesteps). */
  stepsRun: number;
  /** Spikes and SOPs of the steps each sample actually ran (with `monitors`). */
  spikesPerSample?: Float64Array;
  sopsPerSample?: Float64Array;
  /** Active batch size after each step, per batch (diagnostics: it shrinks). */
  activePerStep: number[][];
}

function policyOf(p: PolicyName | CutoffPolicy<PolicyStateBase>): CutoffPolicy<PolicyStateBase> {
  return typeof p === "string" ? getPolicy(p) : p;
}

/** Checks a stored state fits T (per-step tables of topk / conformal). */
function checkState(state: PolicyStateBase, T: number): void {
  const s = state as unknown as Record<string, unknown>;
  const table = (s.beta ?? s.thresholds) as unknown[] | undefined;
  if (Array.isArray(table) && table.length < T) {
    throw new RangeError(`inferAnytime: the ${state.policy} state was calibrated for T=${table.length}, inference asks for T=${T}`);
  }
}

export function inferAnytime(model: SpikingModel, data: InferenceData, opts: AnytimeOptions): AnytimeResult {
  checkSpiking(model, "inferAnytime");
  if (model.options.tebn) throw new Error(`inferAnytime: ${model.spec.name} uses TEBN, which runs multi-step only (spec §12.11); anytime inference needs single-step mode`);
  const policy = policyOf(opts.policy);
  if (opts.state.policy !== policy.name) throw new RangeError(`inferAnytime: state is for policy "${opts.state.policy}", not "${policy.name}"`);
  const T = opts.T ?? model.T;
  if (!(Number.isInteger(T) && T >= 1)) throw new RangeError(`inferAnytime: T must be a positive integer, got ${T}`);
  checkState(opts.state, T);
  const K = model.numClasses;
  const N = countOf(data, opts.limit);
  const predictions = new Int32Array(N);
  const timesteps = new Int32Array(N);
  const labels = new Int32Array(N);
  const activePerStep: number[][] = [];
  let stepsRun = 0;

  const prevMode = model.stepMode;
  const wasTraining = model.training;
  const monitorsWere = model.monitors.enabled;
  model.eval();
  model.setStepMode("single");
  if (opts.monitors) {
    model.monitors.clear();
    model.monitors.enable();
  } else model.monitors.disable();
  const state = opts.state;
  const t0 = performance.now();
  let spikesPerSample: Float64Array | undefined;
  let sopsPerSample: Float64Array | undefined;
  try {
    noGrad(() => {
      let off = 0;
      for (const b of batchesOf(data, opts.batchSize ?? 128, opts.limit)) {
        // activations of this batch return to the pool when it is done
        tidy(() => {
          const B = b.labels.length;
          labels.set(b.labels, off);
          if (b.temporal && b.shape[1]! < T) throw new RangeError(`inferAnytime: event batch has ${b.shape[1]} frames per sample, T is ${T}`);
          const inner = b.temporal ? b.shape.slice(2) : b.shape.slice(1);
          model.resetState();
          // active rows (indices into this batch), their static input and their accumulated outputs
          let rows = Int32Array.from({ length: B }, (_, i) => i);
          let xs: Float32Array | null = b.temporal ? null : b.x;
          let Y: Float32Array = new Float32Array(B * K);
          const active: number[] = [];
          for (let t = 0; t < T; t++) {
            // each step's activations return to the pool when the step is done: only the neuron states (never
            // pooled) and the accumulated outputs carry over, so a batch holds one step's buffers, not T steps'
            const done = tidy((): boolean => {
              const A = rows.length;
              active.push(A);
              const xt = xs ? new Tensor(xs, [A, ...inner]) : new Tensor(frameAt(b.x, b.shape, t, rows), [A, ...inner]);
              const o = model.step(xt).data;
              stepsRun += A;
              for (let i = 0; i < A * K; i++) Y[i] = Y[i]! + o[i]!; // float32 store: fl32(Y + O)
              const last = t === T - 1;
              let keep = 0;
              const keepRows = new Int32Array(A);
              for (let i = 0; i < A; i++) {
                const y = Y.subarray(i * K, (i + 1) * K);
                if (last || policy.fires(state, y, t)) {
                  const n = off + rows[i]!;
                  predictions[n] = argmaxOfRow(y);
                  timesteps[n] = t + 1;
                } else keepRows[keep++] = i;
              }
              if (keep === 0 || last) return true;
              if (keep < A) {
                const sel = keepRows.subarray(0, keep);
                model.selectSamples(sel);
                Y = gatherSampleRows(Y, A, sel);
                if (xs) xs = gatherSampleRows(xs, A, sel);
                rows = Int32Array.from(sel, (i) => rows[i]!);
              }
              return false;
            });
            if (done) break;
          }
          model.resetState();
          activePerStep.push(active);
          off += B;
          opts.onProgress?.(off, N);
        });
      }
    });
    if (opts.monitors) {
      const rec = model.monitors.collect();
      spikesPerSample = new Float64Array(N);
      sopsPerSample = new Float64Array(N);
      for (let t = 0; t < rec.T; t++) {
        for (let n = 0; n < N; n++) {
          spikesPerSample[n]! += rec.totalSpikes[t * rec.N + n]!;
          sopsPerSample[n]! += rec.totalSops[t * rec.N + n]!;
        }
      }
    }
  } finally {
    model.setStepMode(prevMode);
    model.train(wasTraining);
    model.monitors.enable(monitorsWere);
  }
  const wallMs = performance.now() - t0;
  let correct = 0;
  let sum = 0;
  for (let n = 0; n < N; n++) {
    if (predictions[n] === labels[n]) correct++;
    sum += timesteps[n]!;
  }
  return {
    predictions, timesteps, labels, accuracy: N ? correct / N : 0, meanTimestep: N ? sum / N : 0, T, wallMs, stepsRun,
    spikesPerSample, sopsPerSample, activePerStep,
  };
}
