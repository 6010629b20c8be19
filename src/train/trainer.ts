/**
 * The training loop (spec §4.4), as a library call:
 *
 *   const result = await train(config, { onEvent, signal, resume });
 *
 * Per epoch: a seeded permutation of the training split (derived from seed and epoch, so any epoch's order can be
 * recomputed on resume), batches augmented with a dedicated RNG, forward O[T,B,K], task loss (+ α·RCS), backward,
 * optimiser step with the scheduled lr; then evaluation on the test split, `last.safetensors` every epoch and
 * `best.safetensors` for the best test accuracy (model selection on the test set, as the reference does: spec §9,
 * §12.16 — keep that in mind when comparing numbers). A JSON-lines log `train.jsonl` gets one line every
 * `logEvery` steps and one per epoch; a progress bar (images/s, loss, accuracy) shows on a TTY.
 *
 * Resume restores weights, BN statistics, optimiser buffers, the augmentation and global RNG states, the epoch and
 * the position inside the epoch: a run trained straight and one interrupted and resumed end bit-identical.
 * An AbortSignal finishes the current step, writes `last.safetensors` (mid-epoch) and returns `interrupted: true`.
 * A NaN/Inf loss stops the run with TrainingDivergedError before the step is applied; checkpoints already on disk
 * (the last good ones) are left untouched.
 */
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import cliProgress from "cli-progress";
import { noGrad } from "../engine/autograd.js";
import { allocUninit, tidy } from "../engine/memory.js";
import { Rng, globalRng } from "../engine/random.js";
import { Tensor } from "../engine/tensor.js";
import { permute } from "../engine/index.js";
import type { RcsCollector } from "../snn/rcs.js";
import { rcsLoss } from "../snn/rcs.js";
import { loadCheckpoint, loadWeightsInto, saveCheckpoint, CheckpointError } from "./checkpoint.js";
import { validateConfig, type RunConfig } from "./config.js";
import { countCorrect, taskLoss, withRegulariser } from "./losses.js";
import { Adam } from "./optim/adam.js";
import type { Optimiser, ParamTensor } from "./optim/optimizer.js";
import { SGD } from "./optim/sgd.js";
import { LrSchedule } from "./schedule.js";
import type { SplitSource } from "./data.js";
import { buildModel } from "../models/build.js";

/** What the trainer needs from a model (src/models' SpikingModel satisfies it). */
export interface TrainableModel {
  /** x [T, B, C, H, W] → per-step outputs O [T, B, K]. */
  forward(x: Tensor): Tensor;
  train(mode?: boolean): unknown;
  eval(): unknown;
  namedParameters(): [string, ParamTensor][];
  stateDict(): Record<string, Tensor>;
  loadStateDict(sd: Map<string, Tensor>, opts?: { strict?: boolean; context?: string }): void;
  /** The RCS collector the activation layers push into (when the model supports RCS). */
  rcs?: RcsCollector | null;
  /** The JSON model spec, saved in checkpoints. */
  spec?: unknown;
}

export type TrainEvent =
  | { type: "start"; epochs: number; stepsPerEpoch: number; trainCount: number; testCount: number; resumedFrom: string | null; epoch: number; step: number }
  | { type: "step"; epoch: number; step: number; stepInEpoch: number; loss: number; acc: number; lr: number; imagesPerSec: number; rcs?: number }
  | { type: "epoch"; epoch: number; step: number; trainLoss: number; trainAcc: number; testAcc: number | null; bestAcc: number | null; seconds: number; lr: number }
  | { type: "checkpoint"; kind: "last" | "best"; path: string; epoch: number; step: number }
  | { type: "interrupted"; epoch: number; step: number; path: string }
  | { type: "done"; epochs: number; step: number; bestAcc: number | null; lastAcc: number | null };

export interface TrainData {
  train: SplitSource;
  test: SplitSource;
  /** [C, H, W] of one frame, when it differs from the model preset's input (e.g. event frames). */
  inputShape?: [number, number, number];
}

export interface TrainOptions {
  onEvent?: (e: TrainEvent) => void;
  /** Aborting finishes the current step, writes last.safetensors and returns. */
  signal?: AbortSignal;
  /** A checkpoint path to continue from, or true for `<outDir>/last.safetensors`. */
  resume?: string | boolean;
  /** Show the progress bar (default: when stdout is a TTY). */
  progress?: boolean;
  /** Use this data instead of loading the config's dataset (tests, custom data). */
  data?: TrainData;
  /** Build the model with this instead of src/models (tests, custom models). */
  buildModel?: (config: RunConfig, inputShape?: [number, number, number]) => TrainableModel;
  /** Stop after this many global steps in total (tests; the checkpoint is written as for an interrupt). */
  stopAfterSteps?: number;
}

export interface EpochRecord {
  epoch: number;
  trainLoss: number;
  trainAcc: number;
  testAcc: number | null;
  lr: number;
  seconds: number;
}

export interface TrainResult {
  outDir: string;
  model: TrainableModel;
  epochsCompleted: number;
  step: number;
  bestAccuracy: number | null;
  lastAccuracy: number | null;
  history: EpochRecord[];
  interrupted: boolean;
  lastCheckpoint: string;
  bestCheckpoint: string | null;
}

export class TrainingDivergedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TrainingDivergedError";
  }
}

/** The permutation of the training split for an epoch: a pure function of (seed, epoch). */
export function epochPermutation(seed: number, epoch: number, n: number): Int32Array {
  return new Rng((Math.imul(seed + 1, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca77)) >>> 0).permutation(n);
}

export function makeOptimiser(config: RunConfig, params: [string, ParamTensor][]): Optimiser {
  const o = config.optimiser;
  if (o.type === "sgd") return new SGD(params, { lr: o.lr, momentum: o.momentum, nesterov: o.nesterov, weightDecay: o.weightDecay, decayAll: o.decayAll });
  return new Adam(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, decoupled: o.type === "adamw", decayAll: o.decayAll });
}

/** QCFS / clip thresholds λ (scalar parameters named "*.lambda"), for the checkpoint metadata. */
export function collectThresholds(model: TrainableModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, p] of model.namedParameters()) {
    if ((name === "lambda" || name.endsWith(".lambda")) && p.size === 1) out[name.replace(/\.?lambda$/, "")] = p.data[0]!;
  }
  return out;
}

/** Static [B, C, H, W] → [T, B, C, H, W] (repeated); event [B, T, C, H, W] → [T, B, C, H, W]. */
export function toTimeMajor(x: Float32Array, shape: number[], T: number, temporal: boolean): Tensor {
  if (temporal) {
    if (shape[1] !== T) throw new Error(`event batch has ${shape[1]} frames per sample but the config's T is ${T}`);
    return noGrad(() => permute(new Tensor(x, shape), [1, 0, ...shape.slice(2).map((_, i) => i + 2)]));
  }
  if (T === 1) return new Tensor(x, [1, ...shape]);
  const out = allocUninit(x.length * T);
  for (let t = 0; t < T; t++) out.set(x, t * x.length);
  return new Tensor(out, [T, ...shape]);
}

function stepsFor(config: RunConfig, count: number): number {
  const full = Math.ceil(count / config.batchSize);
  return config.maxStepsPerEpoch > 0 ? Math.min(full, config.maxStepsPerEpoch) : full;
}

/** Accuracy of the mean output over time on a split (eval mode, no grad). */
export function evaluate(model: TrainableModel, split: SplitSource, T: number, batchSize: number, limit = split.count): { acc: number; count: number } {
  model.eval();
  let correct = 0;
  const n = Math.min(limit, split.count);
  noGrad(() => {
    for (let s = 0; s < n; s += batchSize) {
      const idx = new Int32Array(Math.min(batchSize, n - s));
      for (let i = 0; i < idx.length; i++) idx[i] = s + i;
      const b = split.batch(idx, null);
      correct += tidy(() => countCorrect(model.forward(toTimeMajor(b.x, b.shape, T, split.temporal)), b.labels));
    }
  });
  return { acc: n ? correct / n : 0, count: n };
}

export async function train(configIn: RunConfig, opts: TrainOptions = {}): Promise<TrainResult> {
  const config = validateConfig(configIn);
  const emit = opts.onEvent ?? (() => {});
  const outDir = resolve(config.outDir);
  mkdirSync(outDir, { recursive: true });
  const lastPath = join(outDir, "last.safetensors");
  const bestPath = join(outDir, "best.safetensors");
  const logPath = join(outDir, "train.jsonl");
  const log = (obj: Record<string, unknown>): void => appendFileSync(logPath, JSON.stringify({ time: new Date().toISOString(), ...obj }) + "\n");

  // seeds: model init and dropout use the global RNG; augmentation has its own stream
  globalRng.seed(config.seed);
  const augRng = new Rng((config.seed ^ 0x5bd1e995) >>> 0);
  const data = opts.data ?? (await loadTrainData(config));
  const model = (opts.buildModel ?? buildModelFromConfig)(config, data.inputShape);
  const params = model.namedParameters();
  const optimiser = makeOptimiser(config, params);
  const T = config.model.route === "ann" ? 1 : config.T;
  const stepsPerEpoch = stepsFor(config, data.train.count);
  const schedule = new LrSchedule({
    type: config.schedule.type, per: config.schedule.per, baseLr: config.optimiser.lr, epochs: config.epochs, stepsPerEpoch,
    warmupEpochs: config.schedule.warmupEpochs, minLr: config.schedule.minLr, stepSize: config.schedule.stepSize, gamma: config.schedule.gamma,
  });
  const rcsOn = config.rcs.alpha > 0;
  if (rcsOn && !model.rcs) throw new Error("rcs.alpha > 0 but the model has no RCS collector (no QCFS/LIF activation layers)");

  let epoch = 0;
  let stepInEpoch = 0;
  let step = 0;
  let bestAcc: number | null = null;
  let history: EpochRecord[] = [];
  let resumedFrom: string | null = null;
  if (opts.resume) {
    const path = opts.resume === true ? lastPath : resolve(opts.resume);
    if (!existsSync(path)) throw new CheckpointError(`cannot resume: checkpoint ${path} not found`);
    const ckpt = loadCheckpoint(path);
    loadWeightsInto(model, ckpt);
    if (!ckpt.optimiser) throw new CheckpointError(`cannot resume from ${path}: it holds no optimiser state (a converted or exported model?)`);
    optimiser.loadStateDict(ckpt.optimiser);
    const rng = ckpt.meta.rng;
    if (!rng?.augment || !rng.global) throw new CheckpointError(`cannot resume from ${path}: it holds no RNG state`);
    augRng.setState(rng.augment);
    globalRng.setState(rng.global);
    epoch = ckpt.meta.epoch;
    stepInEpoch = ckpt.meta.stepInEpoch;
    step = ckpt.meta.step;
    bestAcc = ckpt.meta.bestAccuracy;
    history = (ckpt.meta.extra.history as EpochRecord[] | undefined) ?? [];
    resumedFrom = path;
    const saved = ckpt.meta.config as RunConfig | null;
    if (saved && (saved.seed !== config.seed || saved.batchSize !== config.batchSize)) {
      throw new CheckpointError(`cannot resume from ${path}: it was trained with seed ${saved.seed}, batch ${saved.batchSize}; this run has seed ${config.seed}, batch ${config.batchSize}`);
    }
  } else {
    writeFileSync(logPath, "");
  }
  writeFileSync(join(outDir, "config.json"), JSON.stringify(config, null, 2) + "\n");
  emit({ type: "start", epochs: config.epochs, stepsPerEpoch, trainCount: data.train.count, testCount: data.test.count, resumedFrom, epoch, step });
  log({ type: resumedFrom ? "resume" : "start", from: resumedFrom, epoch, step, stepsPerEpoch, config });

  const buildOptions = (model as { options?: unknown }).options ?? null;
  const save = (path: string, kind: "last" | "best"): void => {
    saveCheckpoint(path, {
      state: model.stateDict(),
      optimiser: optimiser.stateDict(),
      meta: {
        modelSpec: model.spec ?? { preset: config.model.preset, spec: config.model.spec, route: config.model.route },
        config, epoch, step, stepInEpoch,
        rng: { augment: augRng.getState(), global: globalRng.getState() },
        bestAccuracy: bestAcc,
        thresholds: collectThresholds(model),
        calibration: null,
        // the exact build options (input shape included), so evaluation rebuilds this network whatever the data
        extra: { history, ...(buildOptions ? { build: buildOptions } : {}) },
      },
    });
    emit({ type: "checkpoint", kind, path, epoch, step });
  };

  const showBar = opts.progress ?? Boolean(process.stdout.isTTY);
  const bar = showBar
    ? new cliProgress.SingleBar(
        { format: "epoch {epoch}/{epochs} |{bar}| {value}/{total} steps | {ips} img/s | loss {loss} | acc {acc}", hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_classic,
      )
    : null;

  let interrupted = false;
  let lastAcc: number | null = history.length ? history[history.length - 1]!.testAcc : null;
  try {
    while (epoch < config.epochs) {
      const perm = epochPermutation(config.seed, epoch, data.train.count);
      model.train();
      const t0 = performance.now();
      let lossSum = 0;
      let correct = 0;
      let seen = 0;
      let winImages = 0;
      let winStart = performance.now();
      bar?.start(stepsPerEpoch, stepInEpoch, { epoch: epoch + 1, epochs: config.epochs, ips: "-", loss: "-", acc: "-" });
      for (; stepInEpoch < stepsPerEpoch; ) {
        const lo = stepInEpoch * config.batchSize;
        const idx = perm.subarray(lo, Math.min(lo + config.batchSize, data.train.count));
        const batch = data.train.batch(idx, augRng, epoch * stepsPerEpoch + stepInEpoch);
        const lr = schedule.lrAt(step);
        optimiser.lr = lr;
        // one tidy scope per step: activations and gradients return to the pool for the next step
        const { lv, c, regValue } = tidy(() => {
          const x = toTimeMajor(batch.x, batch.shape, T, data.train.temporal);
          if (model.rcs) {
            model.rcs.clear();
            model.rcs.enabled = rcsOn;
          }
          const out = model.forward(x);
          const task = taskLoss(out, batch.labels, { type: config.loss.type, lambda: config.loss.lambda, phi: config.loss.phi, labelSmoothing: config.loss.labelSmoothing });
          const reg = rcsOn ? rcsLoss(model.rcs!, out, batch.labels) : null;
          const loss = withRegulariser(task, reg, config.rcs.alpha);
          const lv = loss.item();
          if (!Number.isFinite(lv)) {
            const msg = `training diverged: the loss is ${lv} at epoch ${epoch + 1}, step ${stepInEpoch + 1} (global step ${step + 1}); the step was not applied. ` +
              (existsSync(lastPath) ? `The last good checkpoint is ${lastPath}.` : "No checkpoint was written yet.") + " Try a lower optimiser.lr.";
            log({ type: "diverged", epoch, step, loss: String(lv) });
            throw new TrainingDivergedError(msg);
          }
          optimiser.zeroGrad();
          loss.backward();
          optimiser.step();
          if (model.rcs) model.rcs.clear();
          return { lv, c: countCorrect(out, batch.labels), regValue: reg ? reg.item() : null };
        });
        step++;
        stepInEpoch++;
        const B = batch.labels.length;
        lossSum += lv * B;
        correct += c;
        seen += B;
        winImages += B;
        const now = performance.now();
        const ips = (winImages * 1000) / Math.max(now - winStart, 1e-3);
        bar?.update(stepInEpoch, { ips: ips.toFixed(0), loss: (lossSum / seen).toFixed(4), acc: ((100 * correct) / seen).toFixed(1) + "%" });
        if (step % config.logEvery === 0) {
          const ev = { type: "step" as const, epoch: epoch + 1, step, stepInEpoch, loss: lossSum / seen, acc: correct / seen, lr, imagesPerSec: ips, ...(regValue !== null ? { rcs: regValue } : {}) };
          emit(ev);
          log(ev);
          winImages = 0;
          winStart = now;
        }
        // Let the event loop run between steps (microseconds against a step): without it nothing else ran until
        // train() returned, so `spikecut train`'s Ctrl-C handler never fired (it trained to the end), an abort from a
        // timer was never seen, and a test runner's worker could not answer its own RPC for the whole run.
        await new Promise<void>((r) => setImmediate(r));
        const stopNow = opts.signal?.aborted || (opts.stopAfterSteps !== undefined && step >= opts.stopAfterSteps);
        if (stopNow && stepInEpoch < stepsPerEpoch) {
          bar?.stop();
          save(lastPath, "last");
          emit({ type: "interrupted", epoch, step, path: lastPath });
          log({ type: "interrupted", epoch, step, stepInEpoch, checkpoint: lastPath });
          interrupted = true;
          return finish();
        }
      }
      bar?.stop();
      epoch++;
      stepInEpoch = 0;
      let testAcc: number | null = null;
      if (epoch % config.evalEvery === 0 || epoch === config.epochs) {
        testAcc = evaluate(model, data.test, config.model.route === "ann" ? 1 : config.T, config.evalBatchSize).acc;
        lastAcc = testAcc;
      }
      const rec: EpochRecord = { epoch, trainLoss: seen ? lossSum / seen : NaN, trainAcc: seen ? correct / seen : NaN, testAcc, lr: schedule.lrAt(step - 1), seconds: (performance.now() - t0) / 1000 };
      history.push(rec);
      const improved = testAcc !== null && (bestAcc === null || testAcc > bestAcc);
      if (improved) bestAcc = testAcc;
      emit({ type: "epoch", epoch, step, trainLoss: rec.trainLoss, trainAcc: rec.trainAcc, testAcc, bestAcc, seconds: rec.seconds, lr: rec.lr });
      log({ type: "epoch", ...rec, bestAcc, step });
      save(lastPath, "last");
      if (improved) save(bestPath, "best");
      if (opts.signal?.aborted || (opts.stopAfterSteps !== undefined && step >= opts.stopAfterSteps && epoch < config.epochs)) {
        emit({ type: "interrupted", epoch, step, path: lastPath });
        log({ type: "interrupted", epoch, step, stepInEpoch: 0, checkpoint: lastPath });
        interrupted = true;
        return finish();
      }
    }
    emit({ type: "done", epochs: epoch, step, bestAcc, lastAcc });
    log({ type: "done", epochs: epoch, step, bestAcc, lastAcc });
    return finish();
  } finally {
    bar?.stop();
  }

  function finish(): TrainResult {
    return {
      outDir, model, epochsCompleted: epoch, step, bestAccuracy: bestAcc, lastAccuracy: lastAcc, history, interrupted,
      lastCheckpoint: lastPath, bestCheckpoint: existsSync(bestPath) ? bestPath : null,
    };
  }
}

// ---- defaults wired to src/models and src/data -------------------------------------------------------------

/** Builds the config's model through src/models (route ann trains with T = 1, spec §5.2). */
export function buildModelFromConfig(config: RunConfig, inputShape?: [number, number, number]): TrainableModel {
  const n = config.neuron;
  return buildModel(config.model.preset ?? config.model.spec, {
    ...(inputShape ? { inputShape } : {}),
    route: config.model.route,
    numClasses: config.model.numClasses,
    T: config.model.route === "ann" ? 1 : config.T,
    L: config.L,
    lambdaInit: config.lambdaInit,
    neuron: n.type,
    theta: n.theta,
    tau: n.tau,
    surrogate: n.surrogate,
    surrogateParam: n.surrogateParam,
    tebn: config.model.route === "snn" ? config.tebn : false,
    seed: config.seed,
  });
}

/** Loads the config's dataset through src/data. */
export async function loadTrainData(config: RunConfig): Promise<TrainData> {
  const { loadConfigData } = await import("./data-loading.js");
  return loadConfigData(config);
}
