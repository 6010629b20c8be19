/**
 * spikecut checkpoints: one safetensors file (written atomically) holding
 * - the model's state dict under its own dotted names ("features.0.weight", BN running stats, thresholds),
 *   so other safetensors tools read the weights directly;
 * - the optimiser's buffers under "__optimiser__.<param>.<buffer>" (momentum, Adam moments), bit-exact;
 * - `__metadata__` (strings; JSON where structured):
 *     format = "spikecut-checkpoint", format_version = "1", spikecut = package version,
 *     model_spec, config, epoch, step, step_in_epoch, optimiser, rng, best_accuracy, thresholds, calibration, extra.
 * Reading checks the format name and version first: a file from an incompatible version is refused with a
 * clear error instead of being misread.
 */
import { Tensor } from "../engine/tensor.js";
import type { OptimiserState } from "./optim/optimizer.js";
import { loadSafetensors, saveSafetensors, SafetensorsError, type TypedArray } from "./safetensors.js";

export const CHECKPOINT_FORMAT = "spikecut-checkpoint";
/** Bumped on any incompatible change of the layout above. */
export const CHECKPOINT_VERSION = 1;
const OPT_PREFIX = "__optimiser__.";
const SPIKECUT_VERSION = "0.1.0";

export class CheckpointError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "CheckpointError";
  }
}

export interface CheckpointMeta {
  formatVersion: number;
  /** The model spec the weights belong to (src/models JSON spec, or a preset description). */
  modelSpec: unknown;
  /** The resolved run config. */
  config: unknown;
  /** Completed epochs (a mid-epoch checkpoint also has stepInEpoch > 0). */
  epoch: number;
  /** Global optimiser steps taken. */
  step: number;
  /** Steps already taken in the current (unfinished) epoch; 0 at an epoch boundary. */
  stepInEpoch: number;
  /** Optimiser type and scalars (buffers are tensors). */
  optimiser: { type: string; scalars: Record<string, unknown> } | null;
  /** Named RNG states (Rng.getState()). */
  rng: Record<string, number[]> | null;
  bestAccuracy: number | null;
  /** QCFS thresholds λ per layer (or any named scalar thresholds). */
  thresholds: Record<string, number> | null;
  /** Cutoff calibration: a free-form JSON slot owned by src/cutoff. */
  calibration: unknown;
  /** Anything else (history, accuracy per epoch...). */
  extra: Record<string, unknown>;
}

export interface Checkpoint {
  meta: CheckpointMeta;
  /** Model state dict. */
  tensors: Map<string, Tensor>;
  optimiser: OptimiserState | null;
  path: string;
}

export interface SaveCheckpointInput {
  /** Model state (Module.stateDict() or a map). */
  state: Record<string, Tensor> | Map<string, Tensor>;
  optimiser?: OptimiserState | null;
  meta: Partial<Omit<CheckpointMeta, "formatVersion">>;
}

/** NaN/Infinity-safe JSON (RNG states hold NaN for "no spare normal"). */
function toJson(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "number" && !Number.isFinite(x) ? { $num: String(x) } : x));
}
function fromJson(s: string): unknown {
  return JSON.parse(s, (_k, x) => (x && typeof x === "object" && !Array.isArray(x) && Object.keys(x).length === 1 && typeof x.$num === "string" ? Number(x.$num) : x));
}

export function saveCheckpoint(path: string, input: SaveCheckpointInput): void {
  const tensors = new Map<string, { data: TypedArray; shape: readonly number[] }>();
  const entries = input.state instanceof Map ? [...input.state] : Object.entries(input.state);
  for (const [k, t] of entries) {
    if (k.startsWith(OPT_PREFIX)) throw new CheckpointError(`checkpoint ${path}: model tensor name "${k}" uses the reserved prefix ${OPT_PREFIX}`);
    tensors.set(k, { data: t.data, shape: t.shape });
  }
  if (input.optimiser) {
    for (const [k, b] of input.optimiser.buffers) tensors.set(OPT_PREFIX + k, { data: b, shape: [b.length] });
  }
  const m = input.meta;
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    format_version: String(CHECKPOINT_VERSION),
    spikecut: SPIKECUT_VERSION,
    model_spec: toJson(m.modelSpec ?? null),
    config: toJson(m.config ?? null),
    epoch: String(m.epoch ?? 0),
    step: String(m.step ?? 0),
    step_in_epoch: String(m.stepInEpoch ?? 0),
    optimiser: toJson(input.optimiser ? { type: input.optimiser.type, scalars: input.optimiser.scalars } : null),
    rng: toJson(m.rng ?? null),
    best_accuracy: toJson(m.bestAccuracy ?? null),
    thresholds: toJson(m.thresholds ?? null),
    calibration: toJson(m.calibration ?? null),
    extra: toJson(m.extra ?? {}),
  };
  saveSafetensors(path, tensors, metadata);
}

function parseField(path: string, md: Record<string, string>, key: string): unknown {
  const s = md[key];
  if (s === undefined) throw new CheckpointError(`checkpoint ${path}: metadata field "${key}" is missing`);
  try {
    return fromJson(s);
  } catch {
    throw new CheckpointError(`checkpoint ${path}: metadata field "${key}" is not valid JSON`);
  }
}

function parseInt_(path: string, md: Record<string, string>, key: string): number {
  const v = Number(md[key]);
  if (md[key] === undefined || !Number.isInteger(v) || v < 0) throw new CheckpointError(`checkpoint ${path}: metadata field "${key}" must be a non-negative integer, got ${JSON.stringify(md[key])}`);
  return v;
}

/** Reads only the metadata (version-checked). */
export function readCheckpointMeta(md: Record<string, string>, path: string): CheckpointMeta {
  if (md.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(`${path} is not a spikecut checkpoint (its safetensors metadata has no format "${CHECKPOINT_FORMAT}"${md.format ? `, but "${md.format}"` : ""})`);
  }
  const version = Number(md.format_version);
  if (!Number.isInteger(version)) throw new CheckpointError(`checkpoint ${path}: format_version ${JSON.stringify(md.format_version)} is not an integer`);
  if (version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(
      `checkpoint ${path} was written in checkpoint format version ${version} (spikecut ${md.spikecut ?? "unknown"}); this spikecut (${SPIKECUT_VERSION}) reads format version ${CHECKPOINT_VERSION} only${version > CHECKPOINT_VERSION ? ": upgrade spikecut" : ": re-train or convert it with the spikecut version that wrote it"}`,
    );
  }
  return {
    formatVersion: version,
    modelSpec: parseField(path, md, "model_spec"),
    config: parseField(path, md, "config"),
    epoch: parseInt_(path, md, "epoch"),
    step: parseInt_(path, md, "step"),
    stepInEpoch: parseInt_(path, md, "step_in_epoch"),
    optimiser: parseField(path, md, "optimiser") as CheckpointMeta["optimiser"],
    rng: parseField(path, md, "rng") as CheckpointMeta["rng"],
    bestAccuracy: parseField(path, md, "best_accuracy") as number | null,
    thresholds: parseField(path, md, "thresholds") as CheckpointMeta["thresholds"],
    calibration: parseField(path, md, "calibration"),
    extra: (parseField(path, md, "extra") ?? {}) as Record<string, unknown>,
  };
}

export function loadCheckpoint(path: string): Checkpoint {
  let file;
  try {
    file = loadSafetensors(path);
  } catch (e) {
    if (e instanceof SafetensorsError) throw new CheckpointError(`cannot read checkpoint: ${e.message}`);
    throw e;
  }
  const meta = readCheckpointMeta(file.metadata, path);
  const tensors = new Map<string, Tensor>();
  const buffers = new Map<string, Float32Array>();
  for (const [name, t] of file.tensors) {
    if (t.dtype !== "F32") throw new CheckpointError(`checkpoint ${path}: tensor "${name}" has dtype ${t.dtype}; spikecut checkpoints hold F32 tensors only`);
    if (name.startsWith(OPT_PREFIX)) buffers.set(name.slice(OPT_PREFIX.length), t.data as Float32Array);
    else tensors.set(name, new Tensor(t.data as Float32Array, t.shape));
  }
  const optimiser = meta.optimiser ? { type: meta.optimiser.type, scalars: meta.optimiser.scalars, buffers } : null;
  return { meta, tensors, optimiser, path };
}

/** Structural view of a model for weight loading (src/nn Module satisfies it). */
export interface LoadableModel {
  loadStateDict(sd: Map<string, Tensor>, opts?: { strict?: boolean; context?: string }): void;
}

/**
 * Copies a checkpoint's weights into a model; a missing/unexpected tensor or a shape mismatch raises an error
 * naming the checkpoint file and every offending tensor.
 */
export function loadWeightsInto(model: LoadableModel, ckpt: Checkpoint, opts: { strict?: boolean } = {}): void {
  try {
    model.loadStateDict(ckpt.tensors, { strict: opts.strict ?? true, context: `checkpoint ${ckpt.path}` });
  } catch (e) {
    const msg = (e as Error).message;
    throw new CheckpointError(msg.includes(ckpt.path) ? msg : `checkpoint ${ckpt.path} does not match the model: ${msg}`);
  }
}
