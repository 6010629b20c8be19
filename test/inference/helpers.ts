/**
 * A tiny QCFS ANN trained for a few seconds on the bundled Fashion-MNIST subset (via src/train's `train`), shared
 * by the inference and CLI tests. Cached per test process.
 */
import { join } from "node:path";
import { validateConfig, type RunConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";
import { makeTempDir } from "../helpers/tmp.js";

export const TINY_SPEC = {
  name: "tiny-cnn",
  inputShape: [1, 28, 28],
  layers: [
    { type: "conv", out: 8, kernel: 3, padding: 1 }, { type: "bn" }, { type: "act" }, { type: "avgpool", kernel: 2 },
    { type: "conv", out: 16, kernel: 3, padding: 1 }, { type: "bn" }, { type: "act" }, { type: "avgpool", kernel: 2 },
    { type: "flatten" }, { type: "linear", out: 32 }, { type: "act" }, { type: "linear", out: "classes" },
  ],
};

export interface TinyAnn {
  dir: string;
  checkpoint: string;
  config: RunConfig;
  accuracy: number | null;
}

let cached: Promise<TinyAnn> | null = null;

/** Trains (once per process) the tiny ANN: 600 training images, 2 epochs of batch 32; tests on 200. */
export function tinyAnn(): Promise<TinyAnn> {
  if (!cached) {
    cached = (async () => {
      const dir = makeTempDir("spikecut-tiny-");
      const config = validateConfig({
        dataset: { name: "fashion-mnist", bundled: true, subset: { train: 600, test: 200 } },
        model: { spec: TINY_SPEC, route: "ann" },
        optimiser: { type: "sgd", lr: 0.1, momentum: 0.9 },
        schedule: { type: "cosine", per: "step" },
        epochs: 2, batchSize: 32, evalBatchSize: 200, seed: 1, outDir: join(dir, "run"), logEvery: 1000, T: 8,
      });
      const r = await train(config, { progress: false });
      return { dir, checkpoint: r.lastCheckpoint, config, accuracy: r.lastAccuracy };
    })();
  }
  return cached;
}

/** Runs a command's run() as src/cli/main.ts does (parseArgs strict, error → exit code), capturing output. */
export async function runCli(cmd: import("../../src/cli/command.js").CliCommand, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { parseArgs } = await import("node:util");
  let stdout = "";
  let stderr = "";
  const io = { stdout: (s: string) => { stdout += s; }, stderr: (s: string) => { stderr += s; } };
  if (argv.includes("--help")) return { code: 0, stdout: cmd.usage, stderr };
  try {
    const p = parseArgs({ args: argv, options: cmd.options, allowPositionals: cmd.allowPositionals ?? false, strict: true });
    const code = await cmd.run({ values: p.values as Record<string, unknown>, positionals: p.positionals }, io);
    return { code, stdout, stderr };
  } catch (e) {
    const err = e as Error & { code?: string };
    const user = ["UserError", "CheckpointError", "ConfigError", "DataFormatError", "ModelSpecError", "InputError"].includes(err.name) || err.code?.startsWith("ERR_PARSE_ARGS") || err.code === "ENOENT";
    stderr += user ? `spikecut ${cmd.name}: ${err.message}\n` : `spikecut ${cmd.name}: internal error: ${err.stack}\n`;
    return { code: user ? 1 : 2, stdout, stderr };
  }
}

/** A converted SNN checkpoint of the tiny ANN (T = 8), written next to it (once per process). */
let snnCached: Promise<string> | null = null;
export function tinySnnCheckpoint(): Promise<string> {
  if (!snnCached) {
    snnCached = (async () => {
      const tiny = await tinyAnn();
      const { loadModelCheckpoint, saveModelCheckpoint } = await import("../../src/inference/index.js");
      const { convertToSNN } = await import("../../src/snn/index.js");
      const { model, config } = loadModelCheckpoint(tiny.checkpoint);
      const out = join(tiny.dir, "snn.safetensors");
      saveModelCheckpoint(out, convertToSNN(model, { T: 8 }), { kind: "converted", config });
      return out;
    })();
  }
  return snnCached;
}

export function expectOneLineError(r: { code: number; stdout: string; stderr: string }, ...patterns: RegExp[]): void {
  // imported lazily so this file stays usable outside vitest
  const msg = r.stderr.trimEnd();
  if (r.code !== 1) throw new Error(`expected exit code 1, got ${r.code}: ${msg}`);
  if (msg.split("\n").length !== 1) throw new Error(`expected a one-line error, got:\n${msg}`);
  if (/\n\s+at /.test(msg)) throw new Error(`stack trace in: ${msg}`);
  for (const p of patterns) if (!p.test(msg)) throw new Error(`error "${msg}" does not match ${p}`);
}
