/** `spikecut oct`: optimal cutoff timestep (the label-using oracle) of a file of per-step outputs. */
import type { CliCommand } from "../command.js";
import { accuracyPerTimestep, oct, stopHistogram } from "../../cutoff/index.js";
import { loadInput } from "./cutoff.js";

const usage = `spikecut oct: optimal cutoff timestep (OCT) of a file of per-step outputs Y[T,N,K]

OCT of a sample = the earliest timestep from which its prediction stays correct through T (T when it is
wrong at T). It is an oracle (it uses the labels) and lower-bounds the latency of any label-free cutoff
that keeps the accuracy at T. Evaluated on the file's test split (or its only split).

usage: spikecut oct --input FILE [--json] [--accumulated] [--labels FILE]

options:
  --input FILE     outputs file (.json, .npz, .npy with --labels, .csv; see spikecut cutoff --help)
  --accumulated    the file holds accumulated outputs Y(t), not per-step outputs
  --labels FILE    labels for a bare .npy input
  --json           print {"accuracy","mean_timestep","timesteps"} (timesteps 1-based)

examples:
  spikecut oct --input outputs.json --json
  spikecut oct --input outputs.npz
`;

export const command: CliCommand = {
  name: "oct",
  summary: "optimal cutoff timestep (oracle) of a file of per-step outputs",
  usage,
  options: {
    input: { type: "string", short: "i" },
    accumulated: { type: "boolean" },
    labels: { type: "string" },
    json: { type: "boolean" },
  },
  allowPositionals: false,
  async run({ values }, io) {
    const { data } = loadInput(values, false);
    const r = oct(data.test);
    if (values.json) {
      io.stdout(JSON.stringify({ accuracy: r.accuracy, mean_timestep: r.mean_timestep, timesteps: r.timesteps }) + "\n");
      return 0;
    }
    const T = data.test.T;
    const acc = accuracyPerTimestep(data.test);
    const h = stopHistogram(r.timesteps, T);
    io.stdout(`input ${data.source}: ${data.test.N} samples, T=${T}, K=${data.test.K}\n`);
    io.stdout(`OCT accuracy ${(100 * r.accuracy).toFixed(2)}% (= acc(T)), mean OCT ${r.mean_timestep.toFixed(4)}, T / mean OCT = ${(T / r.mean_timestep).toFixed(2)}x\n`);
    io.stdout(`acc(t):          ${acc.map((a) => (100 * a).toFixed(2).padStart(6)).join(" ")}\n`);
    io.stdout(`samples with OCT=t: ${h.map((c) => String(c).padStart(6)).join(" ")}\n`);
    return 0;
  },
};
