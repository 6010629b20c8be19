/**
 * The run configuration: one zod schema for everything a training run needs, validated up front.
 * Every object is `.strict()`, so a typo'd key fails; errors name the key path and the allowed values.
 *
 * Conventions:
 * - `T` is the number of SNN timesteps. Route `snn` (direct training) trains and evaluates with T steps; route
 *   `ann` (QCFS conversion) trains the ANN with one step (spec §5.2) and T is the timestep budget of the
 *   converted SNN at evaluation.
 * - `optimiser.decayAll` (default false) applies weight decay to parameters flagged `weightDecay=false` (batch
 *   norm, QCFS thresholds, TEBN scales) too. The reference code decays all parameters (spec §9, §12.18); set it to
 *   true to reproduce that.
 * - `rcs.alpha = 0` switches the RCS regulariser off.
 */
import { readFileSync } from "node:fs";
import { extname } from "node:path";
import YAML from "yaml";
import { z } from "zod";

export const DATASETS = ["fashion-mnist", "mnist", "cifar10", "cifar100", "fashion-mnist-events"] as const;
/** The presets of src/models (kept in sync with src/models/presets.ts; checked by a test). */
export const PRESETS = ["vgg-small", "vgg11", "vgg16", "resnet18", "resnet20", "vggann", "vggsnn"] as const;

const int = () => z.number().int();
const posInt = () => z.number().int().positive();

const subsetSchema = z.union([
  posInt(),
  z.object({ train: posInt().optional(), test: posInt().optional() }).strict(),
]);

export const datasetSchema = z
  .object({
    /** Dataset name. `fashion-mnist-events` is Fashion-MNIST turned into emulated event frames. */
    name: z.enum(DATASETS),
    /** Folder holding the files; default: the bundled subset under data/ or the system copy. */
    path: z.string().min(1).optional(),
    /** Use only the first n samples (or {train, test}), e.g. for a quick run. */
    subset: subsetSchema.optional(),
    /** Use the small real subset shipped in data/ (offline demo). */
    bundled: z.boolean().default(false),
    // The keys below are optional without a zod default, so configs that omit them resolve (and are saved in
    // checkpoints) exactly as before; their defaults are applied where they are used (src/train/data-loading.ts).
    /**
     * Worker threads assembling the training batches (default 0: on the training thread). Batches, losses and
     * checkpoints are identical for any value: augmentation parameters are always drawn on the training thread.
     */
    workers: int().min(0).max(64).optional(),
    /** Training batches assembled ahead of the training step when workers > 0 (default 2). */
    prefetch: posInt().max(64).optional(),
    /** Folder caching integrated event frames (fashion-mnist-events): later runs skip emulation/integration. Default: none. */
    cacheDir: z.string().min(1).optional(),
    /** CIFAR-100 only: train on the 100 "fine" classes (default) or the 20 "coarse" superclasses. */
    labels: z.enum(["fine", "coarse"]).optional(),
  })
  .strict();

export const modelSchema = z
  .object({
    preset: z.enum(PRESETS).optional(),
    /** A JSON model spec (src/models), instead of a preset. */
    spec: z.record(z.string(), z.unknown()).optional(),
    route: z.enum(["ann", "snn"]),
    numClasses: posInt().default(10),
  })
  .strict()
  .superRefine((m, ctx) => {
    if ((m.preset === undefined) === (m.spec === undefined)) {
      ctx.addIssue({ code: "custom", message: "give exactly one of model.preset or model.spec", path: ["preset"] });
    }
  });

export const neuronSchema = z
  .object({
    type: z.enum(["lif", "if"]).default("lif"),
    theta: z.number().positive().default(1),
    tau: z.number().min(0).max(1).default(0.5),
    surrogate: z.enum(["triangle", "sigmoid", "arctan"]).default("triangle"),
    surrogateParam: z.number().positive().default(1),
    reset: z.enum(["hard", "soft"]).default("hard"),
  })
  .strict();

export const lossSchema = z
  .object({
    type: z.enum(["mean", "tet"]).default("mean"),
    /** TET: weight of the MSE term (spec §6.3). */
    lambda: z.number().min(0).max(1).default(1e-3),
    /** TET: MSE target φ. */
    phi: z.number().default(1),
    labelSmoothing: z.number().min(0).lt(1).default(0),
  })
  .strict();

export const rcsSchema = z
  .object({
    /** Weight α of the RCS regulariser; 0 switches it off. Paper range 0.001–0.005. */
    alpha: z.number().min(0).default(0),
    /** Fraction of the last timesteps used for the RCS-SNN mask (spec §4.2, rcs_n). */
    n: z.number().min(0).max(1).default(0.3),
  })
  .strict();

export const optimiserSchema = z
  .object({
    type: z.enum(["sgd", "adamw", "adam"]).default("sgd"),
    lr: z.number().positive().default(0.1),
    momentum: z.number().min(0).lt(1).default(0.9),
    nesterov: z.boolean().default(false),
    weightDecay: z.number().min(0).default(5e-4),
    /** Apply weight decay to BN / threshold parameters too (the reference code does; default: exclude them). */
    decayAll: z.boolean().default(false),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.9, 0.999]),
    eps: z.number().positive().default(1e-8),
  })
  .strict();

export const scheduleSchema = z
  .object({
    type: z.enum(["cosine", "step", "constant"]).default("cosine"),
    /** When the lr changes: once per epoch (the reference) or every step. */
    per: z.enum(["epoch", "step"]).default("epoch"),
    warmupEpochs: z.number().min(0).default(0),
    minLr: z.number().min(0).default(0),
    stepSize: posInt().default(30),
    gamma: z.number().positive().default(0.1),
  })
  .strict();

export const augmentationSchema = z
  .object({
    /** Random crop after zero padding by this many pixels (0 = off). */
    cropPad: int().min(0).default(0),
    /** Random horizontal flip. */
    flip: z.boolean().default(false),
    /** Cutout square side in pixels (0 = off). */
    cutout: int().min(0).default(0),
    // event data (fashion-mnist-events), optional for the same reason as dataset.workers; `flip` applies to both
    /** Event frames: random translation of all timesteps by up to this many pixels, wrapping around (default 0 = off). */
    roll: int().min(0).optional(),
    /**
     * Event frames: probability of pasting a random box of another sample's frames, timestep by timestep (CutMix on
     * the shared timestep grid; default 0 = off). The sample keeps the label covering the larger area.
     */
    mix: z.number().min(0).max(1).optional(),
  })
  .strict();

export const runConfigSchema = z
  .object({
    name: z.string().min(1).default("run"),
    dataset: datasetSchema,
    model: modelSchema,
    /** SNN timesteps (route snn: training and evaluation; route ann: evaluation of the converted SNN). */
    T: posInt().default(4),
    /** QCFS quantisation levels (route ann). */
    L: posInt().default(4),
    /**
     * Initial QCFS threshold λ (route ann; the paper's 8). λ is trained, but slowly: when it starts far above the
     * scale of the pre-activations most of the L levels go unused, and the converted SNN drifts away from the ANN
     * as T grows (see README).
     */
    lambdaInit: z.number().positive().default(8),
    neuron: neuronSchema.prefault({}),
    /** Temporal-effective batch norm (route snn only). */
    tebn: z.boolean().default(false),
    loss: lossSchema.prefault({}),
    rcs: rcsSchema.prefault({}),
    optimiser: optimiserSchema.prefault({}),
    schedule: scheduleSchema.prefault({}),
    epochs: posInt().default(8),
    batchSize: posInt().default(128),
    evalBatchSize: posInt().default(256),
    /** Limit the number of steps per epoch (quick runs, tests); 0 = the whole training split. */
    maxStepsPerEpoch: int().min(0).default(0),
    augmentation: augmentationSchema.prefault({}),
    seed: int().min(0).default(0),
    outDir: z.string().min(1).default("runs/run"),
    /** Evaluate on the test split every n epochs (the last epoch is always evaluated). */
    evalEvery: posInt().default(1),
    /** Write a train.jsonl line every n steps. */
    logEvery: posInt().default(50),
    /** Dropout rate used when collecting calibration outputs for the cutoff (spec §3.4). */
    calibrationDropout: z.number().min(0).lt(1).default(0.3),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (c.model.route === "ann" && c.loss.type === "tet") {
      ctx.addIssue({ code: "custom", path: ["loss", "type"], message: 'TET needs per-step outputs: use loss.type "mean" with model.route "ann"' });
    }
    if (c.model.route === "ann" && c.tebn) {
      ctx.addIssue({ code: "custom", path: ["tebn"], message: 'TEBN is for direct SNN training: set tebn false with model.route "ann"' });
    }
    if (c.schedule.warmupEpochs >= c.epochs) {
      ctx.addIssue({ code: "custom", path: ["schedule", "warmupEpochs"], message: `must be smaller than epochs (${c.epochs})` });
    }
    const events = c.dataset.name === "fashion-mnist-events";
    for (const k of ["cropPad", "cutout"] as const) {
      if (events && c.augmentation[k] > 0) ctx.addIssue({ code: "custom", path: ["augmentation", k], message: "is not applied to event frames: use augmentation.roll (and flip, mix) for event data" });
    }
    for (const k of ["roll", "mix"] as const) {
      if (!events && (c.augmentation[k] ?? 0) > 0) ctx.addIssue({ code: "custom", path: ["augmentation", k], message: `is for event data (dataset fashion-mnist-events), not ${c.dataset.name}` });
    }
    if (c.dataset.labels !== undefined && c.dataset.name !== "cifar100") {
      ctx.addIssue({ code: "custom", path: ["dataset", "labels"], message: `selects CIFAR-100's fine or coarse labels; ${c.dataset.name} has one label set` });
    }
    if (c.dataset.labels === "coarse" && c.model.numClasses !== 20) {
      ctx.addIssue({ code: "custom", path: ["model", "numClasses"], message: `is ${c.model.numClasses}, but CIFAR-100's coarse labels have 20 classes` });
    }
    if (c.optimiser.nesterov && c.optimiser.momentum === 0) {
      ctx.addIssue({ code: "custom", path: ["optimiser", "nesterov"], message: "nesterov needs optimiser.momentum > 0" });
    }
  });

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RunConfigInput = z.input<typeof runConfigSchema>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly issues: string[] = [],
  ) {
    super(message);
    this.name = "ConfigError";
  }
}

/** Unwraps optional/default/prefault/pipe wrappers to reach an object schema's keys. */
function keysAt(path: readonly PropertyKey[]): string[] | null {
  let s: unknown = runConfigSchema;
  const unwrap = (x: unknown): unknown => {
    for (let i = 0; i < 10; i++) {
      const def = (x as { _zod?: { def?: { innerType?: unknown; in?: unknown; type?: string } } })?._zod?.def;
      if (!def) return x;
      if (def.innerType) x = def.innerType;
      else if (def.type === "pipe" && def.in) x = def.in;
      else return x;
    }
    return x;
  };
  s = unwrap(s);
  for (const k of path) {
    const shape = (s as { shape?: Record<string, unknown> }).shape;
    if (!shape || !(String(k) in shape)) return null;
    s = unwrap(shape[String(k)]);
  }
  const shape = (s as { shape?: Record<string, unknown> }).shape;
  return shape ? Object.keys(shape) : null;
}

function describeValue(v: unknown): string {
  if (v === undefined) return "nothing";
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  return `${typeof v} ${JSON.stringify(v)}`;
}

function valueAt(obj: unknown, path: readonly PropertyKey[]): unknown {
  let o = obj;
  for (const k of path) {
    if (o === null || typeof o !== "object") return undefined;
    o = (o as Record<string, unknown>)[String(k)];
  }
  return o;
}

/** One human line per zod issue, naming the key and the allowed values. */
export function formatIssues(error: z.ZodError, input: unknown): string[] {
  const lines: string[] = [];
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".");
    const at = key ? `"${key}"` : "the top level";
    switch (issue.code) {
      case "unrecognized_keys": {
        const allowed = keysAt(issue.path) ?? [];
        for (const k of issue.keys) {
          const full = key ? `${key}.${k}` : k;
          lines.push(`unknown key "${full}" (allowed keys${key ? ` in "${key}"` : ""}: ${allowed.join(", ")})`);
        }
        break;
      }
      case "invalid_value":
        lines.push(`${at}: got ${describeValue(valueAt(input, issue.path))}, allowed values: ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`);
        break;
      case "invalid_type": {
        const got = valueAt(input, issue.path);
        lines.push(got === undefined ? `${at} is required (${issue.expected})` : `${at}: expected ${issue.expected}, got ${describeValue(got)}`);
        break;
      }
      case "too_small":
        lines.push(`${at}: ${describeValue(valueAt(input, issue.path))} is too small (must be ${issue.inclusive ? ">=" : ">"} ${String(issue.minimum)})`);
        break;
      case "too_big":
        lines.push(`${at}: ${describeValue(valueAt(input, issue.path))} is too large (must be ${issue.inclusive ? "<=" : "<"} ${String(issue.maximum)})`);
        break;
      case "invalid_union":
        lines.push(`${at}: ${describeValue(valueAt(input, issue.path))} matches none of the allowed forms (${issue.errors
          .map((errs) => errs.map((e) => e.message.replace(/^Invalid input: /, "")).join("; "))
          .join(" | ")})`);
        break;
      default:
        lines.push(`${at}: ${issue.message}`);
    }
  }
  return lines;
}

/** Validates a config object (already merged); throws ConfigError listing every problem. */
export function validateConfig(input: unknown, source = "config"): RunConfig {
  const r = runConfigSchema.safeParse(input);
  if (r.success) return r.data;
  const lines = formatIssues(r.error, input);
  throw new ConfigError(`invalid ${source}:\n  ${lines.join("\n  ")}`, lines);
}

/** Reads a YAML (.yaml/.yml) or JSON config file, unvalidated (validation happens after overrides). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ConfigError(code === "ENOENT" ? `config file ${path}: not found` : `config file ${path}: cannot read (${(e as Error).message})`);
  }
  let data: unknown;
  const ext = extname(path).toLowerCase();
  try {
    data = ext === ".json" ? JSON.parse(text) : YAML.parse(text);
  } catch (e) {
    throw new ConfigError(`config file ${path}: cannot parse ${ext === ".json" ? "JSON" : "YAML"}: ${(e as Error).message.split("\n")[0]}`);
  }
  if (data === null || data === undefined) data = {};
  if (typeof data !== "object" || Array.isArray(data)) throw new ConfigError(`config file ${path}: the top level must be a mapping of keys`);
  return data as Record<string, unknown>;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

/**
 * Applies overrides to a file config and validates the result. Overrides may be nested objects or dotted keys
 * (`{"optimiser.lr": 0.05, epochs: 3}`), as the CLI produces from flags.
 */
export function resolveConfig(fileConfig: Record<string, unknown>, overrides: Record<string, unknown> = {}, source = "config"): RunConfig {
  let merged = structuredClone(fileConfig);
  for (const [k, v] of Object.entries(overrides)) {
    if (v === undefined) continue;
    const parts = k.split(".");
    let nested: Record<string, unknown> = {};
    const root = nested;
    parts.forEach((p, i) => {
      if (i === parts.length - 1) nested[p] = v;
      else nested = nested[p] = {};
    });
    merged = deepMerge(merged, root);
  }
  return validateConfig(merged, source);
}

/** Loads and validates a config file, with optional overrides. */
export function loadConfig(path: string, overrides: Record<string, unknown> = {}): RunConfig {
  return resolveConfig(readConfigFile(path), overrides, `config ${path}`);
}
