/**
 * `spikecut bench`: the benchmark suite beside PyTorch. It runs in its own process so that its peak-RSS line
 * measures the benchmark alone.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { UserError, type CliCommand } from "../command.js";

const here = dirname(fileURLToPath(import.meta.url));

export const command: CliCommand = {
  name: "bench",
  summary: "benchmarks beside PyTorch",
  usage: `usage: spikecut bench [--case SUBSTRING ...] [--no-torch] [--budget SECONDS]

Prints one JSON object per line: first the machine (measured FP32 peak, copy bandwidth, active backend,
PyTorch settings), then {"case","ours_ms","torch_ms","ratio","gflops","peak_pct",...} per case
(ratio = torch_ms / ours_ms, above 1 means spikecut is faster), last the peak RSS.
PyTorch runs under Debian's /usr/bin/python3 when it has torch (apt-get install -y python3-torch
libopenblas0-pthread); otherwise torch_ms is null.

examples:
  spikecut bench
  spikecut bench --case conv2d --case matmul
  spikecut bench --case cutoff_sweep --no-torch
`,
  options: {
    case: { type: "string", multiple: true },
    "no-torch": { type: "boolean" },
    budget: { type: "string" },
  },
  async run({ values }, io) {
    // dist/src/cli/commands -> dist/bench/main.js
    const main = join(here, "../../../bench/main.js");
    if (!existsSync(main)) throw new UserError(`bench runner not found at ${main}; run \`npm run build\` first`);
    const args = [main];
    for (const c of (values.case as string[] | undefined) ?? []) args.push("--case", c);
    if (values["no-torch"]) args.push("--no-torch");
    if (values.budget !== undefined) args.push("--budget", String(values.budget));
    return await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, args, { stdio: ["ignore", "pipe", "pipe"] });
      child.stdout.on("data", (d: Buffer) => io.stdout(d.toString()));
      child.stderr.on("data", (d: Buffer) => io.stderr(d.toString()));
      child.on("close", (code) => resolve(code === 0 ? 0 : 2));
    });
  },
};
