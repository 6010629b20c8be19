/**
 * Shared plumbing of the model-facing CLI commands (convert, calibrate, eval, infer): checkpoint loading with
 * one-line errors, the data a checkpoint was trained on (or --data), flag parsing of policies and ε lists.
 */
import { existsSync, statSync } from "node:fs";
import { UserError, parseNumberFlag } from "../cli/command.js";
import { convertToSNN } from "../snn/convert.js";
import { loadConfigData } from "../train/data-loading.js";
import type { RunConfig } from "../train/config.js";
import type { TrainData } from "../train/trainer.js";
import { CutoffArgumentError, CutoffInputError, isPolicyName, type PolicyName } from "../cutoff/index.js";
import type { SpikingModel } from "../models/index.js";
import { loadModelCheckpoint, type LoadedModel } from "./model-io.js";

/** Loads --checkpoint, with a one-line error for a missing path. */
export function openCheckpoint(path: string): LoadedModel {
  if (!existsSync(path)) throw new UserError(`--checkpoint ${path}: no such file`);
  if (statSync(path).isDirectory()) throw new UserError(`--checkpoint ${path}: is a directory, expected a .safetensors checkpoint file`);
  return loadModelCheckpoint(path);
}

/**
 * The SNN to run: the checkpoint's SNN, or (for a QCFS ANN checkpoint) its conversion at T, with a note.
 * T: --T, else the converted model's T, else the config's T, else 8.
 */
export function snnOf(loaded: LoadedModel, Tflag: number | undefined, note: (s: string) => void): { snn: SpikingModel; T: number; convertedOnTheFly: boolean } {
  if (loaded.kind === "ann") {
    const T = Tflag ?? loaded.config?.T ?? 8;
    note(`${loaded.ckpt.path} holds a QCFS ANN: converting it to an IF SNN with T=${T} on the fly (spikecut convert writes the SNN checkpoint)`);
    return { snn: convertToSNN(loaded.model, { T }), T, convertedOnTheFly: true };
  }
  const T = Tflag ?? loaded.model.T;
  checkTebnSteps(loaded.model, T);
  return { snn: loaded.model, T, convertedOnTheFly: false };
}

/** A TEBN network has one scale p_t per step it was trained with; the commands run exactly those (--T). */
export function checkTebnSteps(snn: SpikingModel, T: number): void {
  if (snn.options.tebn && T !== snn.T) throw new UserError(`--T ${T}: this TEBN network was trained for T=${snn.T} and only runs that many steps`);
}

export interface DataFlags {
  data?: string;
  /** Samples of each split. */
  limit?: number;
  /** Samples of the training (calibration) split; overrides limit for it. */
  trainLimit?: number;
}

/**
 * The checkpoint's dataset splits without augmentation (spec §3.5: calibration on the training split as it is).
 * --data bundled | DIR overrides where the files come from; --limit keeps the first N samples of each split.
 */
export async function dataFor(loaded: LoadedModel, flags: DataFlags): Promise<{ data: TrainData; description: string }> {
  const base: Partial<RunConfig> = loaded.config ?? {};
  let dataset = (base.dataset ?? null) as RunConfig["dataset"] | null;
  if (flags.data !== undefined) {
    if (flags.data === "bundled") dataset = { name: "fashion-mnist", bundled: true, ...(dataset?.subset ? { subset: dataset.subset } : {}) };
    else {
      if (!existsSync(flags.data)) throw new UserError(`--data ${flags.data}: no such file or directory`);
      dataset = { name: dataset?.name ?? "fashion-mnist", path: flags.data, bundled: false, ...(dataset?.subset ? { subset: dataset.subset } : {}) };
    }
  }
  if (!dataset) throw new UserError(`${loaded.ckpt.path} records no dataset (no run config in its metadata): pass --data bundled or --data DIR`);
  const sub = dataset.subset;
  const prevTrain = typeof sub === "number" ? sub : sub?.train;
  const prevTest = typeof sub === "number" ? sub : sub?.test;
  const train = flags.trainLimit ?? flags.limit ?? prevTrain;
  const test = flags.limit ?? prevTest;
  const config = {
    ...(base as RunConfig),
    T: base.T ?? loaded.model.T,
    seed: base.seed ?? 0,
    dataset: { ...dataset, subset: train === undefined && test === undefined ? undefined : { ...(train ? { train } : {}), ...(test ? { test } : {}) } },
    augmentation: { cropPad: 0, flip: false, cutout: 0 },
  } as RunConfig;
  let data: TrainData;
  try {
    data = await loadConfigData(config);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (err.name === "DataFormatError" || err.name === "DatasetNotFoundError" || err.code === "ENOENT" || /not found|missing|no such/i.test(err.message)) {
      throw new UserError(`${flags.data !== undefined ? `--data ${flags.data}` : `dataset ${dataset.name}`}: ${err.message.split("\n")[0]}`);
    }
    throw e;
  }
  const want = loaded.model.options.inputShape;
  const got = data.inputShape;
  if (got && (got[0] !== want[0] || got[1] !== want[1] || got[2] !== want[2])) {
    throw new UserError(`${dataset.path ?? dataset.name}: samples are [${got.join(", ")}], the model in ${loaded.ckpt.path} expects [${want.join(", ")}]`);
  }
  const where = dataset.bundled ? "bundled Fashion-MNIST subset" : dataset.path ? `${dataset.name} from ${dataset.path}` : dataset.name;
  return { data, description: where };
}

/** Parses repeated --policy flags (default `fallback`), restricted to `allowed`. */
export function parsePolicies(raw: unknown, allowed: readonly PolicyName[], fallback: PolicyName[]): PolicyName[] {
  const list = raw === undefined ? fallback : (Array.isArray(raw) ? raw : [raw]).map(String);
  const out: PolicyName[] = [];
  for (const p of list) {
    if (!isPolicyName(p) || !allowed.includes(p)) throw new UserError(`--policy: expected one of ${allowed.join(", ")}, got "${p}"`);
    if (!out.includes(p)) out.push(p);
  }
  return out;
}

/** Parses repeated --epsilon flags; each in [0, 1). */
export function parseEpsilons(raw: unknown): number[] | null {
  if (raw === undefined) return null;
  const list = Array.isArray(raw) ? raw : [raw];
  return list.map((v) => parseNumberFlag(v, "epsilon", { min: 0, max: 1, maxExclusive: true }));
}

export function optionalInt(raw: unknown, flag: string, min = 1): number | undefined {
  return raw === undefined ? undefined : parseNumberFlag(raw, flag, { integer: true, min });
}

/** Cutoff-layer input/argument errors as one-line user errors. */
export function cutoffErrorsAsUser<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CutoffInputError || e instanceof CutoffArgumentError) throw new UserError(e.message);
    throw e;
  }
}

/** Default ε per policy for a single operating point (calibrate, infer). */
export const DEFAULT_POLICY_EPSILON: Record<PolicyName, number> = { topk: 0.01, confidence: 0.1, conformal: 0.1, timestep: 0 };

/** A progress line on stderr when it is a terminal (quiet otherwise). */
export function progress(label: string): ((done: number, total: number) => void) | undefined {
  if (!process.stderr.isTTY) return undefined;
  const t0 = performance.now();
  return (done, total) => {
    const s = (performance.now() - t0) / 1000;
    const rate = done / Math.max(s, 1e-3);
    const eta = (total - done) / Math.max(rate, 1e-9);
    process.stderr.write(`\r${label}: ${done}/${total} samples, ${rate.toFixed(0)}/s, ETA ${eta.toFixed(0)} s   ${done === total ? "\n" : ""}`);
  };
}
