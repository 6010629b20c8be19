#!/usr/bin/env node
/**
 * `spikecut <command>`: loads only the command it runs (startup stays fast; the native addon is loaded
 * by the commands that compute).
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";
import { EXIT_INTERNAL, EXIT_OK, EXIT_USER, UserError, type CliCommand, type CliIO } from "./command.js";
import { parseCommandArgs } from "./args.js";

/** Command name -> module under ./commands (one file per command). */
const COMMANDS: Record<string, string> = {
  train: "train",
  convert: "convert",
  calibrate: "calibrate",
  eval: "eval",
  infer: "infer",
  cutoff: "cutoff",
  oct: "oct",
  data: "data",
  bench: "bench",
  demo: "demo",
};

const SUMMARIES: Record<string, string> = {
  train: "train an ANN (QCFS, for conversion) or an SNN (LIF, direct) from a preset or model spec",
  convert: "turn a trained QCFS ANN checkpoint into an IF SNN checkpoint",
  calibrate: "fit cutoff policies (Top-K, conformal) on training data and store them in the checkpoint",
  eval: "per-step outputs, every cutoff policy, an epsilon sweep, cost accounting and a report",
  infer: "anytime inference that stops each sample at its cutoff",
  cutoff: "apply a cutoff policy to a file of per-step outputs [T,N,K]",
  oct: "optimal cutoff timestep (oracle) of a file of per-step outputs",
  data: "inspect datasets and event recordings, emulate events, integrate frames",
  bench: "benchmarks beside PyTorch",
  demo: "the whole paper on the bundled Fashion-MNIST subset, in minutes",
};

function packageVersion(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const rel of ["../../package.json", "../../../package.json"]) {
    try {
      return (JSON.parse(readFileSync(join(here, rel), "utf8")) as { version: string }).version;
    } catch {
      /* try the next layout (src vs dist) */
    }
  }
  return "unknown";
}

function topHelp(): string {
  const lines = [
    "spikecut: anytime spiking neural networks (QCFS conversion, LIF training, RCS, Top-K cutoff)",
    "",
    "usage: spikecut <command> [options]     spikecut <command> --help",
    "",
    "commands:",
    ...Object.keys(COMMANDS).map((c) => `  ${c.padEnd(10)} ${SUMMARIES[c]}`),
    "",
    "global: --version (also prints the active compute path), --help",
  ];
  return lines.join("\n") + "\n";
}

async function versionText(): Promise<string> {
  const { getBackend } = await import("../engine/backends.js");
  return `spikecut ${packageVersion()}\nbackend: ${getBackend().description}\n`;
}

export async function runCli(argv: string[], io: CliIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    io.stdout(topHelp());
    return name ? EXIT_OK : EXIT_USER;
  }
  if (name === "--version" || name === "-V") {
    io.stdout(await versionText());
    return EXIT_OK;
  }
  const file = COMMANDS[name];
  if (!file) {
    io.stderr(`spikecut: unknown command "${name}"; commands: ${Object.keys(COMMANDS).join(", ")}\n`);
    return EXIT_USER;
  }
  let command: CliCommand;
  try {
    command = ((await import(`./commands/${file}.js`)) as { command: CliCommand }).command;
  } catch (e) {
    io.stderr(`spikecut: internal error: command "${name}" failed to load: ${(e as Error).message}\n`);
    return EXIT_INTERNAL;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(command.usage.endsWith("\n") ? command.usage : command.usage + "\n");
    return EXIT_OK;
  }
  try {
    return await command.run(parseCommandArgs(command, rest), io);
  } catch (e) {
    const err = e as Error & { code?: string };
    if (e instanceof UserError || (err.code && err.code.startsWith("ERR_PARSE_ARGS"))) {
      // Node's argument errors span several lines; the contract is one line
      io.stderr(`spikecut ${name}: ${err.message.split("\n").map((l) => l.trim()).filter(Boolean).join(" ")}\n`);
      return EXIT_USER;
    }
    if (isUserFacing(err)) {
      io.stderr(`spikecut ${name}: ${err.message}\n`);
      return EXIT_USER;
    }
    io.stderr(`spikecut ${name}: internal error: ${err.stack ?? err.message}\n`);
    return EXIT_INTERNAL;
  }
}

/** Errors from the library that describe bad user input (files, configs, checkpoints) rather than bugs. */
function isUserFacing(err: Error): boolean {
  return (
    err.name === "UserError" ||
    err.name === "DataFormatError" ||
    err.name === "ConfigError" ||
    err.name === "CheckpointError" ||
    err.name === "InputError" ||
    err.name === "ModelSpecError" ||
    (err as NodeJS.ErrnoException).code === "ENOENT"
  );
}

const isMain = process.argv[1] && fileURLToPath(import.meta.url) === (await import("node:fs")).realpathSync(process.argv[1]);
if (isMain) {
  // A reader that stops early (`spikecut ... | head`) closes the pipe: stop quietly, as Unix tools do.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  const code = await runCli(process.argv.slice(2), {
    stdout: (s) => process.stdout.write(s),
    stderr: (s) => process.stderr.write(s),
  });
  process.exitCode = code;
}
