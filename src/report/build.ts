/** Assemble a CutoffReport from evaluated sweeps (pure; no I/O). */
import {
  accuracyPerTimestep, costAccounting, oct, stopHistogram, DEFAULT_ENERGY,
  type CostInput, type EnergyModel, type OutputsDataset, type SweepResult, type Accumulation,
} from "../cutoff/index.js";
import { REPORT_SCHEMA, REPORT_SCHEMA_VERSION, type CutoffReport, type ReportPolicy } from "./schema.js";

export interface BuildReportOptions {
  title?: string;
  generator?: string;
  /** Fixed timestamp (tests, reproducible example reports). Default: now. */
  created?: string;
  accumulation?: Accumulation;
  calibrationSource?: string | null;
  /** Calibration options per policy name, echoed into the report. */
  policyOptions?: Record<string, Record<string, unknown>>;
  /** ε of the operating point per policy (default: the first ε evaluated). */
  operatingEpsilon?: Partial<Record<string, number>>;
  /** Keep per-sample stop times in the JSON (default true). */
  includeTimesteps?: boolean;
  cost?: { input: CostInput; source?: string; energy?: EnergyModel; note?: string };
  notes?: string[];
}

export function buildCutoffReport(data: OutputsDataset, sweeps: SweepResult[], opts: BuildReportOptions = {}): CutoffReport {
  const test = data.test;
  const keep = opts.includeTimesteps ?? true;
  const o = oct(test);
  const energy = opts.cost?.energy ?? DEFAULT_ENERGY;
  const costFor = (stops: ArrayLike<number>) => {
    if (!opts.cost) return undefined;
    const c = costAccounting(opts.cost.input, stops, energy, opts.cost.source);
    return {
      spikes_per_sample: c.totals.spikes_per_sample.cutoff,
      sops_per_sample: c.totals.sops_per_sample.cutoff,
      macs_per_sample: c.totals.macs_per_sample.cutoff,
      energy_pj_per_sample: c.totals.energy_pj_per_sample.cutoff,
    };
  };
  const opIndex = (s: SweepResult): number => {
    const e = opts.operatingEpsilon?.[s.policy];
    const i = e === undefined ? 0 : s.results.findIndex((r) => r.epsilon === e);
    return i < 0 ? 0 : i;
  };
  const policies: ReportPolicy[] = sweeps.map((s) => ({
    policy: s.policy,
    operating_point: opIndex(s),
    options: opts.policyOptions?.[s.policy] ?? {},
    results: s.results.map((r) => ({
      policy: r.policy,
      epsilon: r.epsilon,
      accuracy: r.accuracy,
      mean_timestep: r.mean_timestep,
      speedup: r.speedup,
      stop_histogram: r.stop_histogram,
      state: r.state,
      ...(keep ? { timesteps: r.timesteps } : {}),
      ...(opts.cost ? { cost: costFor(r.timesteps) } : {}),
    })),
    frontier: s.frontier,
  }));
  let cost: CutoffReport["cost"] = null;
  if (opts.cost) {
    const primary = sweeps.find((s) => s.policy !== "timestep") ?? sweeps[0];
    const r = primary ? primary.results[opIndex(primary)] : undefined;
    cost = {
      note: opts.cost.note ?? "Spike counts supplied with the outputs; costs summed up to each sample's stop time.",
      operating_point: { policy: r?.policy ?? "timestep", epsilon: r?.epsilon ?? null },
      energy_model: energy,
      report: costAccounting(opts.cost.input, r ? r.timesteps : null, energy, opts.cost.source),
    };
  }
  return {
    schema: REPORT_SCHEMA,
    schema_version: REPORT_SCHEMA_VERSION,
    generator: opts.generator ?? "spikecut",
    created: opts.created ?? new Date().toISOString(),
    title: opts.title ?? `Cutoff evaluation of ${data.source}`,
    input: {
      source: data.source,
      calibration_source: opts.calibrationSource ?? (data.calibration ? data.source : null),
      accumulation: opts.accumulation ?? "per-step",
      T: test.T,
      K: test.K,
      n_test: test.N,
      n_calibration: data.calibration?.N ?? 0,
    },
    accuracy_per_timestep: accuracyPerTimestep(test),
    oct: { accuracy: o.accuracy, mean_timestep: o.mean_timestep, stop_histogram: stopHistogram(o.timesteps, test.T), ...(keep ? { timesteps: o.timesteps } : {}) },
    policies,
    cost,
    notes: [
      "Timesteps are 1-based. Accumulated output Y(t) is the float32 sum of the per-step outputs (reference convention).",
      "Speed-up is reported two ways (spec §10): T / mean timestep, and (smallest fixed t whose accuracy reaches the cutoff accuracy) / mean timestep.",
      "OCT is an oracle (it uses the labels): the earliest t from which every prediction stays correct.",
      ...(opts.notes ?? []),
    ],
  };
}
