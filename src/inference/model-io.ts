/**
 * Models in checkpoints, for the inference side (convert / calibrate / eval / infer):
 *
 * - `loadModelCheckpoint(path)` rebuilds the network a checkpoint holds and loads its weights. The build options
 *   come from `extra.build` (written by `saveModelCheckpoint`, e.g. by `spikecut convert`) or, for checkpoints
 *   written by the trainer, from the run config (route ann: QCFS with T = 1; route snn: LIF/IF, TEBN as configured).
 * - `saveModelCheckpoint(path, model, meta)` writes a checkpoint (atomic, src/train/checkpoint.ts) with the model's
 *   resolved build options in `extra.build` and its kind in `extra.route` ("ann" | "converted" | "snn").
 * - The checkpoint's free-form `calibration` slot holds `CalibrationSlot` (fitted cutoff policy states).
 */
import { buildModel, type BuildOptions, type ResolvedBuildOptions, type SpikingModel } from "../models/index.js";
import { CheckpointError, loadCheckpoint, loadWeightsInto, saveCheckpoint, type Checkpoint, type CheckpointMeta } from "../train/checkpoint.js";
import type { RunConfig } from "../train/config.js";
import type { PolicyStateBase } from "../cutoff/index.js";

/** What a checkpoint holds: a QCFS ANN, a converted IF SNN, or a directly trained SNN. */
export type ModelKind = "ann" | "converted" | "snn";

export interface LoadedModel {
  model: SpikingModel;
  ckpt: Checkpoint;
  kind: ModelKind;
  /** The run config saved with the checkpoint (null when absent). */
  config: RunConfig | null;
}

/** One calibrated policy as stored in the checkpoint's calibration slot. */
export interface StoredPolicy {
  policy: string;
  epsilon: number | null;
  state: PolicyStateBase;
  /** Test-free diagnostics at calibration time. */
  calibration_samples: number;
}

/** The calibration slot of a checkpoint (schema spikecut.calibration/v1). */
export interface CalibrationSlot {
  schema: "spikecut.calibration/v1";
  created: string;
  T: number;
  calibration_dropout: number;
  seed: number;
  /** Where the calibration data came from. */
  data: string;
  samples: number;
  policies: StoredPolicy[];
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Build options of a checkpoint: `extra.build` when present, otherwise derived from the run config. */
export function buildOptionsOf(ckpt: Checkpoint): { opts: BuildOptions; kind: ModelKind } {
  const extra = ckpt.meta.extra ?? {};
  const b = extra.build;
  if (isObject(b)) {
    const opts = { ...(b as unknown as ResolvedBuildOptions) };
    const r = extra.route;
    const kind: ModelKind = r === "ann" || r === "converted" || r === "snn" ? r : opts.route === "ann" ? "ann" : "snn";
    return { opts, kind };
  }
  const c = ckpt.meta.config as RunConfig | null;
  if (!isObject(c) || !isObject(c.model)) {
    throw new CheckpointError(`checkpoint ${ckpt.path}: its metadata has neither "extra.build" nor a run config, so the network it holds cannot be rebuilt`);
  }
  const n = (c.neuron ?? {}) as RunConfig["neuron"];
  const route = c.model.route;
  const opts: BuildOptions = {
    route,
    numClasses: c.model.numClasses ?? 10,
    T: route === "ann" ? 1 : c.T,
    L: c.L,
    neuron: n.type,
    theta: n.theta,
    tau: n.tau,
    surrogate: n.surrogate,
    surrogateParam: n.surrogateParam,
    tebn: route === "snn" ? c.tebn : false,
    seed: c.seed,
    // checkpoints written before the trainer recorded extra.build: emulated events are 2 × 34 × 34 frames
    ...(isObject(c.dataset) && c.dataset.name === "fashion-mnist-events" ? { inputShape: [2, 34, 34] as [number, number, number] } : {}),
  };
  return { opts, kind: route === "ann" ? "ann" : "snn" };
}

/** Rebuilds the checkpoint's network and loads its weights (eval mode). */
export function loadModelCheckpoint(path: string): LoadedModel {
  const ckpt = loadCheckpoint(path);
  const { opts, kind } = buildOptionsOf(ckpt);
  const c = ckpt.meta.config as RunConfig | null;
  const spec = ckpt.meta.modelSpec ?? (isObject(c) && isObject(c.model) ? (c.model.preset ?? c.model.spec) : null);
  if (spec === null || spec === undefined) throw new CheckpointError(`checkpoint ${path}: metadata field "model_spec" is empty`);
  let model: SpikingModel;
  try {
    // a spec saved as {preset, spec, route} by the trainer's fallback
    const s = isObject(spec) && "preset" in spec && !("layers" in spec) ? ((spec.preset as string | undefined) ?? spec.spec) : spec;
    model = buildModel(s, opts);
  } catch (e) {
    throw new CheckpointError(`checkpoint ${path}: cannot rebuild its model: ${(e as Error).message}`);
  }
  loadWeightsInto(model, ckpt);
  model.eval();
  return { model, ckpt, kind, config: isObject(c) ? c : null };
}

export interface SaveModelMeta {
  kind: ModelKind;
  config?: unknown;
  calibration?: unknown;
  thresholds?: Record<string, number> | null;
  bestAccuracy?: number | null;
  epoch?: number;
  extra?: Record<string, unknown>;
}

/** Per-layer thresholds θ of the spiking layers (or λ of QCFS layers) by module path. */
export function thresholdsOf(model: SpikingModel): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, t] of Object.entries(model.stateDict())) {
    if ((name.endsWith(".theta") || name.endsWith(".lambda")) && t.size === 1) out[name.replace(/\.(theta|lambda)$/, "")] = t.data[0]!;
  }
  return out;
}

/** Writes a model checkpoint (atomically) that `loadModelCheckpoint` can rebuild. */
export function saveModelCheckpoint(path: string, model: SpikingModel, meta: SaveModelMeta): void {
  saveCheckpoint(path, {
    state: model.stateDict(),
    optimiser: null,
    meta: {
      modelSpec: model.spec,
      config: meta.config ?? null,
      epoch: meta.epoch ?? 0,
      step: 0,
      stepInEpoch: 0,
      rng: null,
      bestAccuracy: meta.bestAccuracy ?? null,
      thresholds: meta.thresholds ?? thresholdsOf(model),
      calibration: meta.calibration ?? null,
      extra: { ...(meta.extra ?? {}), route: meta.kind, build: { ...model.options } },
    },
  });
}

/** Rewrites a checkpoint with a new calibration slot, keeping everything else (atomic rename). */
export function writeCalibrationSlot(ckpt: Checkpoint, slot: CalibrationSlot, path = ckpt.path): void {
  const m: CheckpointMeta = ckpt.meta;
  saveCheckpoint(path, {
    state: ckpt.tensors,
    optimiser: ckpt.optimiser,
    meta: { ...m, calibration: slot },
  });
}

/** The calibration slot of a checkpoint, or null (validated shallowly: schema and policy list). */
export function readCalibrationSlot(ckpt: Checkpoint): CalibrationSlot | null {
  const c = ckpt.meta.calibration;
  if (c === null || c === undefined) return null;
  if (!isObject(c) || c.schema !== "spikecut.calibration/v1" || !Array.isArray(c.policies)) {
    throw new CheckpointError(`checkpoint ${ckpt.path}: metadata field "calibration" is not a spikecut.calibration/v1 object`);
  }
  return c as unknown as CalibrationSlot;
}
