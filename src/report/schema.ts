/**
 * The versioned JSON report of one cutoff evaluation (`spikecut.cutoff-report/v1`).
 * Field names are snake_case and stable; additions bump the minor part of `schema_version`.
 *  - 1.1: cost.report.layers[].spikes_per_timestep_cutoff (per-timestep spikes under cutoff).
 */
import type { CostReport, EnergyModel, PolicyName, PolicyStateBase, SpeedUps } from "../cutoff/index.js";

export const REPORT_SCHEMA = "spikecut.cutoff-report" as const;
export const REPORT_SCHEMA_VERSION = "1.1" as const;

export interface ReportResult {
  policy: PolicyName;
  epsilon: number | null;
  accuracy: number;
  mean_timestep: number;
  speedup: SpeedUps;
  stop_histogram: number[];
  /** The calibrated state (betas, thresholds, …). */
  state: PolicyStateBase;
  /** Per-sample 1-based stop times on the test split (omitted when `includeTimesteps` is false). */
  timesteps?: number[];
  /** Cost totals at this operating point, when spike counts were given. */
  cost?: { spikes_per_sample: number; sops_per_sample: number; macs_per_sample: number; energy_pj_per_sample: number };
}

export interface ReportPolicy {
  policy: PolicyName;
  /** Calibration options used (k, mode, bins, timestep). */
  options: Record<string, unknown>;
  results: ReportResult[];
  /** Index into results of the operating point shown in the cards, the accuracy chart and the histogram. */
  operating_point: number;
  frontier: { epsilon: number | null; accuracy: number; mean_timestep: number; pareto: boolean }[];
}

export interface CutoffReport {
  schema: typeof REPORT_SCHEMA;
  schema_version: typeof REPORT_SCHEMA_VERSION;
  generator: string;
  created: string;
  title: string;
  input: {
    source: string;
    calibration_source: string | null;
    accumulation: "per-step" | "accumulated";
    T: number;
    K: number;
    n_test: number;
    n_calibration: number;
  };
  /** acc(t), t = 1..T, on the test split. */
  accuracy_per_timestep: number[];
  oct: { accuracy: number; mean_timestep: number; stop_histogram: number[]; timesteps?: number[] };
  policies: ReportPolicy[];
  /** Cost accounting at one operating point (that of the first cutoff policy), with a note. */
  cost: null | {
    note: string;
    operating_point: { policy: PolicyName; epsilon: number | null };
    energy_model: EnergyModel;
    report: CostReport;
  };
  notes: string[];
}
