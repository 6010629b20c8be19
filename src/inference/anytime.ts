/**
 * Anytime inference that really stops (issue 6): the model runs in single-step mode; after every step the
 * accumulated output Y(t) = fl32(Y(t-1) + O_t) of each active sample goes to the policy's online rule
 * `fires(state, Y(t), t)`; samples that fire are finished (prediction argmax Y(t), first maximal index) and LEAVE
 * the batch (`model.selectSamples(rows)` drops their neuron state, their input rows are dropped too), so the next
 * step computes only the samples still running. Everything stops at T. With refill (the default) the next samples
 * of the data take the finished rows' places instead (`model.resetSamples(rows)`: those state rows back to the
 * initial state), so the batch stays full, each row runs its own timestep, and no state moves until the data runs
 * out.
 *
 * Because the network is causal and the rule only reads Y(t), the predictions and stop times equal the post-hoc
 * `policy.decide` on `collectOutputs` of the same model on the same data (tested exactly), and the number of
 * sample-steps computed equals the sum of the stop times.
 */
import { noGrad } from "../engine/autograd.js";
import { allocUninit, tidy } from "../engine/memory.js";
import { Tensor } from "../engine/tensor.js";
import type { SpikingModel } from "../models/spiking-model.js";
import { argmaxOfRow, getPolicy, type CutoffPolicy, type PolicyName, type PolicyStateBase } from "../cutoff/index.js";
import { batchesOf, countOf, type Batch, type InferenceData } from "./data.js";
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
  /**
   * Refill the batch as samples stop (default true): finished samples' places go to the next waiting samples at
   * once, so every step runs on a full batch until the data runs out. false: a batch runs until its last sample
   * stops before the next one starts (the batch shrinks from `batchSize` to a few samples). Results are the same.
   */
  refill?: boolean;
  /** Called whenever samples finish, with (samples done, total). */
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
  /**
   * Rows computed at each step (diagnostics), one list per run of the batch until it drained: with refill the batch
   * stays full until the data runs out and drains once at the end; without, one list per batch, shrinking.
   */
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

/** One waiting sample: its input is x[at·per ..] of the batch it came in. */
interface Waiting {
  x: Float32Array;
  at: number;
  id: number;
}

/**
 * The data, sample by sample, in order (ids 0, 1, ...): what joins the batch next. Checks that every batch holds
 * samples of the first one's shape and, for event frames, at least T frames.
 */
class SampleFeed {
  private batch: (Batch & { temporal: boolean }) | null = null;
  private taken = 0;
  private fed = 0;
  temporal = false;
  /** Shape of one step's input, its size, and the frames per event sample (1 for images). */
  inner: number[] = [];
  frameSize = 0;
  frames = 1;

  constructor(private readonly batches: Generator<Batch & { temporal: boolean }>, private readonly T: number,
              private readonly labels: Int32Array) {}

  next(): Waiting | null {
    if (this.fed === this.labels.length) return null;
    while (!this.batch || this.taken === this.batch.labels.length) {
      const next = this.batches.next();
      if (next.done) return null;
      this.open(next.value);
    }
    const id = this.fed++;
    const at = this.taken++;
    this.labels[id] = this.batch.labels[at]!;
    return { x: this.batch.x, at, id };
  }

  private open(b: Batch & { temporal: boolean }): void {
    const inner = b.temporal ? b.shape.slice(2) : b.shape.slice(1);
    if (!this.batch) {
      this.temporal = b.temporal;
      this.inner = inner;
      this.frameSize = inner.reduce((a, d) => a * d, 1);
      this.frames = b.temporal ? b.shape[1]! : 1;
    }
    if (b.temporal && b.shape[1]! < this.T) throw new RangeError(`inferAnytime: event batch has ${b.shape[1]} frames per sample, T is ${this.T}`);
    if (b.temporal !== this.temporal || inner.some((d, i) => d !== this.inner[i]) || (b.temporal && b.shape[1] !== this.frames)) {
      const want = [...(this.temporal ? [this.frames] : []), ...this.inner];
      throw new RangeError(`inferAnytime: batch of shape [${b.shape.join(", ")}] does not match the first batch's samples [${want.join(", ")}]`);
    }
    this.batch = b;
    this.taken = 0;
  }
}

/**
 * The rows of the running batch: per row, its sample's id, the steps it has run, its input (the image, or all of
 * its event frames) and its accumulated output.
 */
class ActiveRows {
  count = 0;
  readonly ids: Int32Array;
  readonly steps: Int32Array;
  readonly x: Float32Array;
  readonly Y: Float32Array;

  constructor(capacity: number, readonly xPer: number, readonly K: number) {
    this.ids = new Int32Array(capacity);
    this.steps = new Int32Array(capacity);
    this.x = new Float32Array(capacity * xPer);
    this.Y = new Float32Array(capacity * K);
  }

  /** Row r now holds sample s (row count: append). */
  put(r: number, s: Waiting): void {
    const { xPer, K } = this;
    this.x.set(s.x.subarray(s.at * xPer, (s.at + 1) * xPer), r * xPer);
    this.Y.fill(0, r * K, (r + 1) * K);
    this.ids[r] = s.id;
    this.steps[r] = 0;
    if (r === this.count) this.count++;
  }

  /** Keeps the rows `keep` (increasing), in that order. */
  compact(keep: Int32Array): void {
    const { xPer, K } = this;
    for (let r = 0; r < keep.length; r++) {
      const i = keep[r]!;
      if (i === r) continue;
      this.ids[r] = this.ids[i]!;
      this.steps[r] = this.steps[i]!;
      this.x.copyWithin(r * xPer, i * xPer, (i + 1) * xPer);
      this.Y.copyWithin(r * K, i * K, (i + 1) * K);
    }
    this.count = keep.length;
  }

  /** The model's input for this step: each row's image, or its event frame at its own step. */
  input(temporal: boolean, frameSize: number): Float32Array {
    if (!temporal) return this.x.subarray(0, this.count * this.xPer);
    const out = allocUninit(this.count * frameSize);
    for (let i = 0; i < this.count; i++) {
      const o = i * this.xPer + this.steps[i]! * frameSize;
      out.set(this.x.subarray(o, o + frameSize), i * frameSize);
    }
    return out;
  }
}

export function inferAnytime(model: SpikingModel, data: InferenceData, opts: AnytimeOptions): AnytimeResult {
  checkSpiking(model, "inferAnytime");
  const policy = policyOf(opts.policy);
  if (opts.state.policy !== policy.name) throw new RangeError(`inferAnytime: state is for policy "${opts.state.policy}", not "${policy.name}"`);
  const T = opts.T ?? model.T;
  if (!(Number.isInteger(T) && T >= 1)) throw new RangeError(`inferAnytime: T must be a positive integer, got ${T}`);
  // TEBN has a scale p_t for each of the steps it was trained with, no more (each row uses its own step's)
  if (model.options.tebn && T > model.T) throw new RangeError(`inferAnytime: ${model.spec.name} uses TEBN built for T=${model.T}; it cannot run T=${T}`);
  checkState(opts.state, T);
  const batchSize = opts.batchSize ?? 128;
  if (!(Number.isInteger(batchSize) && batchSize >= 1)) throw new RangeError(`inferAnytime: batchSize must be a positive integer, got ${batchSize}`);
  const refill = opts.refill ?? true;
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
      const feed = new SampleFeed(batchesOf(data, batchSize, opts.limit), T, labels);
      let rows: ActiveRows | null = null;
      let finished = 0;
      let active: number[] = [];
      // an empty batch takes up to batchSize waiting samples, all starting at step 0
      const fill = (): void => {
        model.resetState();
        for (let s = feed.next(); s; s = rows!.count < batchSize ? feed.next() : null) {
          rows ??= new ActiveRows(batchSize, feed.frameSize * feed.frames, K);
          rows.put(rows.count, s);
        }
      };
      fill();
      while (rows && (rows as ActiveRows).count > 0) {
        const R: ActiveRows = rows;
        // each step's activations return to the pool when the step is done: only the neuron states (never
        // pooled) and the rows' arrays carry over
        tidy(() => {
          const A = R.count;
          active.push(A);
          const o = model.step(new Tensor(R.input(feed.temporal, feed.frameSize), [A, ...feed.inner])).data;
          stepsRun += A;
          const Y = R.Y;
          for (let i = 0; i < A * K; i++) Y[i] = Y[i]! + o[i]!; // float32 store: fl32(Y + O)
          let stopped = 0;
          const stops = new Int32Array(A);
          for (let i = 0; i < A; i++) {
            const t = R.steps[i]!;
            R.steps[i] = t + 1;
            const y = Y.subarray(i * K, (i + 1) * K);
            if (t === T - 1 || policy.fires(state, y, t)) {
              const n = R.ids[i]!;
              predictions[n] = argmaxOfRow(y);
              timesteps[n] = t + 1;
              stops[stopped++] = i;
            }
          }
          if (stopped === 0) return;
          finished += stopped;
          opts.onProgress?.(finished, N);
          // Refill: the next samples take the finished rows' places, so the batch stays full (kernels keep running
          // on full batches, not on the handful of slow samples a batch ends with) and nothing else moves.
          let placed = 0;
          if (refill) {
            for (let s = feed.next(); s; s = placed < stopped ? feed.next() : null) R.put(stops[placed++]!, s);
            if (placed > 0) model.resetSamples(stops.subarray(0, placed));
          }
          if (placed === stopped) return;
          // the data ran out (or no refill): the other finished rows leave the batch
          const leaving = stops.subarray(placed, stopped);
          if (R.count - leaving.length === 0) {
            R.count = 0;
            activePerStep.push(active);
            active = [];
            fill();
            return;
          }
          const keep = new Int32Array(R.count - leaving.length);
          for (let i = 0, j = 0, k = 0; i < R.count; i++) {
            if (j < leaving.length && leaving[j] === i) j++;
            else keep[k++] = i;
          }
          model.selectSamples(keep);
          R.compact(keep);
        });
      }
      if (active.length) activePerStep.push(active);
      model.resetState();
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
