/**
 * `spikecut cutoff`: apply a cutoff policy (one ε or an ε sweep) to a file of per-step outputs [T, N, K].
 * JSON contract (issue 4): one object with policy, epsilon, accuracy, mean_timestep, timesteps (1-based),
 * plus beta (topk), thresholds (conformal), accuracy_per_timestep (timestep). Several --epsilon values
 * print {policy, epsilons, results: [one object per ε], frontier}.
 */
import { readFileSync } from "node:fs";
import { UserError, parseNumberFlag, requireString, type CliCommand, type CliIO } from "../command.js";
import {
  CutoffArgumentError, CutoffInputError, DEFAULT_ENERGY, accuracyPerTimestep, checkCompatible, isPolicyName, loadOutputsFile,
  splitCalibration, sweepPolicy, validateCostInput, type CalibrateOptions, type CostInput, type OutputsDataset, type PolicyName,
  type PolicyResult, type SweepResult, type Accumulation, type EnergyModel,
} from "../../cutoff/index.js";
import { buildCutoffReport, writeReport } from "../../report/index.js";

const DEFAULT_EPSILON: Record<PolicyName, number> = { topk: 0, confidence: 0.1, conformal: 0.1, timestep: 0 };

const usage = `spikecut cutoff: apply a cutoff policy to a file of per-step network outputs Y[T,N,K]

usage: spikecut cutoff --input FILE --policy topk|confidence|conformal|timestep
                       [--epsilon E ...] [--calibration-split N | --calibration FILE]
                       [--json] [--report DIR] [more options]

input formats (by extension):
  .json  {"calibration": {"per_step": [T][N][K], "labels": [N]}, "test": {...}} (calibration optional)
  .npz   arrays outputs [T,N,K] float32/float64 + labels [N] (+ calibration_outputs, calibration_labels)
  .npy   outputs [T,N,K] with --labels FILE (.npy or text of integers)
  .csv   header split,t,sample,label,y0,...,y{K-1}; t is 1-based; split is calibration|test (optional)
  Outputs are per-step and accumulated (summed) by spikecut unless --accumulated is given.

policies:
  topk        stop when top1 - topk of the summed output exceeds beta(t), calibrated at confidence 1-eps
              (the paper's Top-K cutoff; reference-exact 100-bin grid, or --mode exact)
  confidence  stop when max softmax of the summed output exceeds 1-eps (no calibration)
  conformal   SpikeCP: stop when the conformal prediction set at level 1-eps holds at most one class
  timestep    fixed stop time (--timestep t, default T); prints accuracy_per_timestep

calibration (topk, conformal): the file's "calibration" section when present; otherwise
  --calibration FILE (its calibration section, else its outputs) or --calibration-split N (first N samples).

options:
  --input FILE            outputs file (required)
  --policy NAME           topk | confidence | conformal | timestep (required)
  --epsilon E             in [0, 1); repeat for a sweep (default: topk 0, confidence 0.1, conformal 0.1)
  --calibration FILE      calibration outputs file
  --calibration-split N   use the first N samples of --input for calibration, the rest for evaluation
  --k K                   topk: gap between the largest and the K-th largest output (default 2)
  --mode grid|exact       topk: 100-bin reference grid (default) or exact search over observed gaps
  --bins M                topk grid size (default 100)
  --timestep T            timestep policy: the fixed stop time (default T)
  --accumulated           the file holds accumulated outputs Y(t), not per-step outputs
  --labels FILE           labels for a bare .npy input
  --cost FILE             JSON {layers:[{name,neurons,fanOut,macsFirstLayer?}], spikes:[T][N][L]} for the
                          test samples: adds spikes, firing rates, SOPs, MACs and energy to the report
  --pj-ac X, --pj-mac X   energy per accumulate / per MAC in pJ (assumption; default 0.9 / 4.6, 45 nm)
  --json                  print one JSON object on stdout
  --report DIR            write report.json, report.md and report.html (self-contained) into DIR
  --title TEXT            report title

examples:
  spikecut cutoff --input outputs.json --policy topk --epsilon 0.02 --json
  spikecut cutoff --input outputs.npz --policy conformal --epsilon 0.05 --epsilon 0.1 --epsilon 0.2
  spikecut cutoff --input test.csv --calibration train.csv --policy topk --mode exact --report out/
  spikecut cutoff --input outputs.npy --labels labels.npy --calibration-split 5000 --policy topk
  spikecut cutoff --input outputs.json --policy timestep --json
`;

/** Library errors that describe bad input become one-line UserErrors. */
export function asUserError(e: unknown): never {
  if (e instanceof CutoffInputError || e instanceof CutoffArgumentError) throw new UserError(e.message);
  throw e;
}

export interface LoadedInput {
  data: OutputsDataset;
  calibrationSource: string | null;
  accumulation: Accumulation;
}

/** Shared by cutoff and oct: load --input (+ --labels, --accumulated) and resolve calibration. */
export function loadInput(values: Record<string, unknown>, needCalibration: boolean): LoadedInput {
  const input = requireString(values, "input");
  const accumulation: Accumulation = values.accumulated ? "accumulated" : "per-step";
  const labelsPath = typeof values.labels === "string" ? values.labels : undefined;
  try {
    const data = loadOutputsFile(input, { accumulation, labelsPath });
    let calibration = data.calibration;
    let test = data.test;
    let calibrationSource: string | null = calibration ? input : null;
    const calFile = typeof values.calibration === "string" ? values.calibration : undefined;
    const split = values["calibration-split"];
    if (calFile !== undefined && split !== undefined) throw new UserError("--calibration and --calibration-split are mutually exclusive");
    if (calFile !== undefined) {
      if (calibration) throw new UserError(`--calibration ${calFile}: ${input} already has a calibration section (remove one)`);
      const c = loadOutputsFile(calFile, { accumulation });
      calibration = c.calibration ?? c.test;
      checkCompatible(calibration, test, calFile, input);
      calibrationSource = calFile;
    } else if (split !== undefined) {
      if (calibration) throw new UserError(`--calibration-split: ${input} already has a calibration section (remove one)`);
      const n = parseNumberFlag(split, "calibration-split", { integer: true, min: 1 });
      const s = splitCalibration(test, n, input);
      calibration = s.calibration;
      test = s.test;
      calibrationSource = `${input} (first ${n} samples)`;
    }
    if (needCalibration && !calibration) {
      throw new UserError(`${input}: field "calibration": expected a calibration section (or pass --calibration FILE or --calibration-split N), got nothing`);
    }
    return { data: { source: input, calibration, test }, calibrationSource, accumulation };
  } catch (e) {
    return asUserError(e);
  }
}

function parseEpsilons(raw: unknown, policy: PolicyName): number[] {
  const list = raw === undefined ? [] : Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) return [DEFAULT_EPSILON[policy]];
  return list.map((v) => parseNumberFlag(v, "epsilon", { min: 0, max: 1, maxExclusive: true }));
}

/** The contract object for one operating point. */
export function resultJson(r: PolicyResult, accPerT: number[] | null): Record<string, unknown> {
  const st = r.state as unknown as Record<string, unknown>;
  const o: Record<string, unknown> = { policy: r.policy, epsilon: r.epsilon };
  if (r.policy === "topk") Object.assign(o, { beta: st.beta, k: st.k, mode: st.mode });
  if (r.policy === "conformal") Object.assign(o, { thresholds: st.thresholds, rank: st.rank });
  if (r.policy === "confidence") o.threshold = st.threshold;
  if (r.policy === "timestep") Object.assign(o, { timestep: st.timestep, accuracy_per_timestep: accPerT });
  Object.assign(o, { accuracy: r.accuracy, mean_timestep: r.mean_timestep, speedup: r.speedup, timesteps: r.timesteps });
  return o;
}

function loadCost(path: string, N: number, T: number): CostInput {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new CutoffInputError(path, "(file)", code ? "a readable JSON file" : "valid JSON", code === "ENOENT" ? "no such file" : (e as Error).message.split("\n")[0]);
  }
  const c = validateCostInput(doc, path);
  const sp = c.spikes;
  const shape = Array.isArray(sp) ? [sp.length, Array.isArray(sp[0]) ? sp[0].length : 0] : [sp.shape[0], sp.shape[1]];
  if (shape[0] !== T || shape[1] !== N) throw new CutoffInputError(path, "spikes", `shape [${T}, ${N}, L] (T and N of the test outputs)`, `[${shape[0]}, ${shape[1]}, …]`);
  return c;
}

function textOutput(io: CliIO, loaded: LoadedInput, sweep: SweepResult, accPerT: number[]): void {
  const { data } = loaded;
  const T = data.test.T;
  io.stdout(`input ${data.source}: ${data.test.N} test samples, T=${T}, K=${data.test.K}` + (data.calibration ? `; calibration ${loaded.calibrationSource} (${data.calibration.N} samples)` : "") + "\n");
  io.stdout(`fixed-timestep accuracy acc(t): ${accPerT.map((a) => (100 * a).toFixed(2)).join(" ")} %\n`);
  io.stdout(`policy ${sweep.policy}\n`);
  io.stdout(`  ${"epsilon".padEnd(9)}${"accuracy".padStart(9)}${"mean t".padStart(9)}${"T/avg".padStart(8)}${"eq.t".padStart(6)}${"eq.t/avg".padStart(10)}\n`);
  for (const r of sweep.results) {
    const s = r.speedup;
    io.stdout(`  ${String(r.epsilon ?? "-").padEnd(9)}${(100 * r.accuracy).toFixed(2).padStart(8)}%${r.mean_timestep.toFixed(3).padStart(9)}${(s.vs_max_timestep.toFixed(2) + "x").padStart(8)}${String(s.equal_accuracy_timestep ?? "-").padStart(6)}${(s.vs_equal_accuracy === null ? "-" : s.vs_equal_accuracy.toFixed(2) + "x").padStart(10)}\n`);
  }
  const st = sweep.results[0].state as unknown as Record<string, unknown>;
  if (sweep.results.length === 1 && Array.isArray(st.beta)) io.stdout(`  beta(t): ${(st.beta as number[]).map((b) => +b.toPrecision(6)).join(" ")}\n`);
  if (sweep.results.length === 1 && Array.isArray(st.thresholds)) io.stdout(`  thresholds(t): ${(st.thresholds as (number | null)[]).map((b) => (b === null ? "inf" : +b.toPrecision(6))).join(" ")}\n`);
}

export const command: CliCommand = {
  name: "cutoff",
  summary: "apply a cutoff policy to a file of per-step outputs [T,N,K]",
  usage,
  options: {
    input: { type: "string", short: "i" },
    policy: { type: "string", short: "p" },
    epsilon: { type: "string", short: "e", multiple: true },
    calibration: { type: "string" },
    "calibration-split": { type: "string" },
    k: { type: "string" },
    mode: { type: "string" },
    bins: { type: "string" },
    timestep: { type: "string" },
    accumulated: { type: "boolean" },
    labels: { type: "string" },
    cost: { type: "string" },
    "pj-ac": { type: "string" },
    "pj-mac": { type: "string" },
    json: { type: "boolean" },
    report: { type: "string" },
    title: { type: "string" },
  },
  allowPositionals: false,
  async run({ values }, io) {
    const policyRaw = requireString(values, "policy");
    if (!isPolicyName(policyRaw)) throw new UserError(`--policy: expected one of topk, confidence, conformal, timestep, got "${policyRaw}"`);
    const policy: PolicyName = policyRaw;
    const epsilons = parseEpsilons(values.epsilon, policy);
    const opts: CalibrateOptions = {};
    if (values.k !== undefined) {
      if (policy !== "topk") throw new UserError("--k applies to --policy topk only");
      opts.k = parseNumberFlag(values.k, "k", { integer: true, min: 2 });
    }
    if (values.mode !== undefined) {
      if (policy !== "topk") throw new UserError("--mode applies to --policy topk only");
      if (values.mode !== "grid" && values.mode !== "exact") throw new UserError(`--mode: expected grid or exact, got "${String(values.mode)}"`);
      opts.mode = values.mode;
    }
    if (values.bins !== undefined) {
      if (policy !== "topk") throw new UserError("--bins applies to --policy topk only");
      opts.bins = parseNumberFlag(values.bins, "bins", { integer: true, min: 1 });
    }
    if (values.timestep !== undefined) {
      if (policy !== "timestep") throw new UserError("--timestep applies to --policy timestep only");
      opts.timestep = parseNumberFlag(values.timestep, "timestep", { integer: true, min: 1 });
    }
    const energy: EnergyModel = {
      pjPerAC: values["pj-ac"] !== undefined ? parseNumberFlag(values["pj-ac"], "pj-ac", { min: 0 }) : DEFAULT_ENERGY.pjPerAC,
      pjPerMAC: values["pj-mac"] !== undefined ? parseNumberFlag(values["pj-mac"], "pj-mac", { min: 0 }) : DEFAULT_ENERGY.pjPerMAC,
    };
    const needsCal = policy === "topk" || policy === "conformal";
    const loaded = loadInput(values, needsCal);
    const { data } = loaded;
    const T = data.test.T;
    if (opts.k !== undefined && opts.k > data.test.K) throw new UserError(`--k: ${opts.k} is out of range, expected <= ${data.test.K} (the number of classes)`);
    if (opts.timestep !== undefined && opts.timestep > T) throw new UserError(`--timestep: ${opts.timestep} is out of range, expected <= ${T} (T of ${data.source})`);
    let cost: CostInput | undefined;
    try {
      if (typeof values.cost === "string") cost = loadCost(values.cost, data.test.N, T);
    } catch (e) {
      asUserError(e);
    }
    const effEps = policy === "timestep" ? [0] : epsilons;
    if (policy === "timestep" && values.epsilon !== undefined) io.stderr("spikecut cutoff: note: --epsilon is ignored by --policy timestep (use --timestep)\n");
    let sweep: SweepResult;
    try {
      sweep = sweepPolicy(policy, data, effEps, opts);
    } catch (e) {
      return asUserError(e);
    }
    const accPerT = accuracyPerTimestep(data.test);
    if (typeof values.report === "string") {
      const policyOptions: Record<string, Record<string, unknown>> = {};
      if (policy === "topk") policyOptions.topk = { k: opts.k ?? 2, mode: opts.mode ?? "grid", ...(opts.mode === "exact" ? {} : { bins: opts.bins ?? 100 }) };
      if (policy === "timestep") policyOptions.timestep = { timestep: opts.timestep ?? T };
      try {
        const report = buildCutoffReport(data, [sweep], {
          title: typeof values.title === "string" ? values.title : undefined,
          accumulation: loaded.accumulation,
          calibrationSource: loaded.calibrationSource,
          policyOptions,
          cost: cost ? { input: cost, source: String(values.cost), energy } : undefined,
        });
        writeReport(values.report, report);
      } catch (e) {
        if (e instanceof CutoffInputError || e instanceof CutoffArgumentError) asUserError(e);
        const code = (e as NodeJS.ErrnoException).code;
        if (code) throw new UserError(`--report ${values.report}: cannot write the report (${code})`);
        throw e;
      }
    }
    if (values.json) {
      if (sweep.results.length === 1) io.stdout(JSON.stringify(resultJson(sweep.results[0], accPerT)) + "\n");
      else io.stdout(JSON.stringify({ policy, epsilons, results: sweep.results.map((r) => resultJson(r, accPerT)), frontier: sweep.frontier }) + "\n");
    } else {
      textOutput(io, loaded, sweep, accPerT);
      if (typeof values.report === "string") io.stdout(`report written to ${values.report}/report.{json,md,html}\n`);
    }
    return 0;
  },
};
