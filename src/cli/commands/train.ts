/**
 * `spikecut train`: one run from a config file (YAML/JSON) and/or flags. Flags override the file; the whole
 * resolved config is validated before any work starts and is saved with every checkpoint.
 */
import { UserError, parseNumberFlag, type CliCommand } from "../command.js";
import { readConfigFile, resolveConfig, type RunConfig } from "../../train/config.js";
import { train, type TrainEvent } from "../../train/trainer.js";

/** Flag -> dotted config key, with how to parse it. */
const FLAG_KEYS: Record<string, { key: string; kind: "int" | "number" | "string" | "bool" }> = {
  preset: { key: "model.preset", kind: "string" },
  route: { key: "model.route", kind: "string" },
  classes: { key: "model.numClasses", kind: "int" },
  dataset: { key: "dataset.name", kind: "string" },
  data: { key: "dataset.path", kind: "string" },
  subset: { key: "dataset.subset", kind: "int" },
  epochs: { key: "epochs", kind: "int" },
  "batch-size": { key: "batchSize", kind: "int" },
  lr: { key: "optimiser.lr", kind: "number" },
  optimiser: { key: "optimiser.type", kind: "string" },
  T: { key: "T", kind: "int" },
  L: { key: "L", kind: "int" },
  loss: { key: "loss.type", kind: "string" },
  "rcs-alpha": { key: "rcs.alpha", kind: "number" },
  surrogate: { key: "neuron.surrogate", kind: "string" },
  seed: { key: "seed", kind: "int" },
  out: { key: "outDir", kind: "string" },
  "max-steps-per-epoch": { key: "maxStepsPerEpoch", kind: "int" },
};

export const command: CliCommand = {
  name: "train",
  summary: "train an ANN (QCFS, for conversion) or an SNN (LIF, direct) from a preset or model spec",
  usage: `usage: spikecut train [--config FILE.yaml|json] [flags] [--set key=value ...] [--resume PATH | --resume-last]

Trains one run; flags override the config file; the resolved config is validated up front (unknown keys,
wrong types and out-of-range values are reported with the allowed values) and saved in every checkpoint.
Writes <out>/last.safetensors, <out>/best.safetensors (best test accuracy) and <out>/train.jsonl.
Ctrl-C finishes the current step, writes last.safetensors and exits; --resume continues from it.

flags:
  --config FILE        run config (see configs/)
  --preset NAME        vgg-small | vgg11 | vgg16 | resnet18 | resnet20 | vggann | vggsnn
  --route ann|snn      ann = QCFS ANN for conversion, snn = direct LIF training
  --dataset NAME       fashion-mnist | mnist | cifar10 | cifar100 | fashion-mnist-events
  --data DIR           dataset folder (default: search SPIKECUT_DATA, ~/.cache/spikecut, Debian's location)
  --bundled            use the small Fashion-MNIST subset shipped in data/
  --subset N           use only the first N training samples
  --epochs N  --batch-size N  --lr X  --optimiser sgd|adamw|adam  --seed N
  --T N                timesteps (snn: train and eval; ann: eval of the converted SNN)
  --L N                QCFS quantisation levels
  --loss mean|tet      --tebn      --surrogate triangle|sigmoid|arctan
  --rcs-alpha X        RCS regulariser weight (0 = off; paper range 0.001-0.005)
  --out DIR            output folder
  --set key=value      any config key, dotted (e.g. --set optimiser.weightDecay=1e-4)
  --resume PATH        continue from a checkpoint
  --resume-last        continue from <out>/last.safetensors
  --json               print the result as JSON

examples:
  spikecut train --config configs/fmnist-qcfs.yaml
  spikecut train --config configs/fmnist-qcfs.yaml --rcs-alpha 0.002 --seed 1 --out runs/qcfs-rcs-s1
  spikecut train --preset vgg-small --route snn --tebn --loss tet --T 4 --epochs 5 --dataset fashion-mnist
  spikecut train --config configs/fmnist-qcfs.yaml --resume-last
`,
  options: {
    config: { type: "string" },
    ...Object.fromEntries(Object.keys(FLAG_KEYS).map((k) => [k, { type: "string" as const }])),
    bundled: { type: "boolean" },
    tebn: { type: "boolean" },
    set: { type: "string", multiple: true },
    resume: { type: "string" },
    "resume-last": { type: "boolean" },
    json: { type: "boolean" },
    quiet: { type: "boolean" },
  },
  async run({ values }, io) {
    const config = resolveTrainConfig(values);
    const controller = new AbortController();
    const onSigint = (): void => {
      if (controller.signal.aborted) process.exit(130);
      io.stderr("\nspikecut train: interrupt: finishing the current step and writing a checkpoint (Ctrl-C again to quit now)\n");
      controller.abort();
    };
    process.on("SIGINT", onSigint);
    const json = Boolean(values.json);
    const onEvent = (e: TrainEvent): void => {
      if (json || values.quiet) return;
      if (e.type === "epoch") {
        io.stderr(
          `epoch ${e.epoch}/${config.epochs}: train loss ${e.trainLoss.toFixed(4)} acc ${(100 * e.trainAcc).toFixed(2)}%` +
            (e.testAcc === null ? "" : `, test acc ${(100 * e.testAcc).toFixed(2)}%`) +
            ` (${e.seconds.toFixed(1)} s, lr ${e.lr.toPrecision(3)})\n`,
        );
      } else if (e.type === "interrupted") io.stderr(`interrupted at epoch ${e.epoch + 1}, step ${e.step}: wrote ${e.path}\n`);
    };
    try {
      const resume = values.resume !== undefined ? String(values.resume) : values["resume-last"] ? true : undefined;
      const result = await train(config, { onEvent, signal: controller.signal, resume, progress: !json && !values.quiet && process.stderr.isTTY });
      const summary = {
        out_dir: result.outDir,
        epochs_completed: result.epochsCompleted,
        steps: result.step,
        best_accuracy: result.bestAccuracy,
        last_accuracy: result.lastAccuracy,
        interrupted: result.interrupted,
        last_checkpoint: result.lastCheckpoint,
        best_checkpoint: result.bestCheckpoint,
        history: result.history,
      };
      if (json) io.stdout(JSON.stringify(summary) + "\n");
      else {
        io.stdout(
          `${result.interrupted ? "interrupted" : "done"}: ${result.epochsCompleted} epochs, best test accuracy ${fmtAcc(result.bestAccuracy)}, last ${fmtAcc(result.lastAccuracy)}\n` +
            `checkpoints: ${result.lastCheckpoint}${result.bestCheckpoint ? `, ${result.bestCheckpoint}` : ""}\n`,
        );
      }
      return result.interrupted ? 130 : 0;
    } finally {
      process.off("SIGINT", onSigint);
    }
  },
};

function fmtAcc(a: number | null): string {
  return a === null ? "n/a" : `${(100 * a).toFixed(2)}%`;
}

/** Builds the run config from --config, the named flags and --set overrides (in that order of precedence). */
export function resolveTrainConfig(values: Record<string, unknown>): RunConfig {
  const file = typeof values.config === "string" ? readConfigFile(values.config) : {};
  const overrides: Record<string, unknown> = {};
  for (const [flag, { key, kind }] of Object.entries(FLAG_KEYS)) {
    const raw = values[flag];
    if (raw === undefined) continue;
    overrides[key] = parseFlagValue(raw, flag, kind);
  }
  if (values.bundled) overrides["dataset.bundled"] = true;
  if (values.tebn) overrides.tebn = true;
  for (const kv of (values.set as string[] | undefined) ?? []) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UserError(`--set ${kv}: expected key=value`);
    overrides[kv.slice(0, eq)] = parseLooseValue(kv.slice(eq + 1));
  }
  if (!values.config && !overrides["model.route"] && !overrides["model.preset"]) {
    throw new UserError("give --config FILE or at least --preset and --route (see spikecut train --help)");
  }
  const defaults: Record<string, unknown> = values.config ? {} : { dataset: { name: "fashion-mnist" }, model: { preset: "vgg-small", route: "ann" } };
  return resolveConfig({ ...defaults, ...file }, overrides, typeof values.config === "string" ? `config ${values.config}` : "flags");
}

function parseFlagValue(raw: unknown, flag: string, kind: "int" | "number" | "string" | "bool"): unknown {
  if (kind === "int") return parseNumberFlag(raw, flag, { integer: true });
  if (kind === "number") return parseNumberFlag(raw, flag);
  if (kind === "bool") return raw === true || raw === "true";
  return String(raw);
}

/** --set values: numbers, booleans and JSON arrays/objects are parsed; anything else stays a string. */
function parseLooseValue(s: string): unknown {
  if (s === "true") return true;
  if (s === "false") return false;
  if (s !== "" && Number.isFinite(Number(s))) return Number(s);
  if (s.startsWith("[") || s.startsWith("{")) {
    try {
      return JSON.parse(s);
    } catch {
      throw new UserError(`--set: cannot parse ${s} as JSON`);
    }
  }
  return s;
}
