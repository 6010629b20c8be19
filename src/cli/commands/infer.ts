/**
 * `spikecut infer`: anytime inference with the calibrated policy stored in the checkpoint: each sample stops at its
 * cutoff and leaves the batch. Prints accuracy, average timesteps and the wall-clock against running all T.
 */
import { UserError, parseNumberFlag, requireString, type CliCommand } from "../command.js";
import { getPolicy, type PolicyName, type PolicyStateBase } from "../../cutoff/index.js";
import { collectOutputs, DEFAULT_CALIBRATION_DROPOUT } from "../../inference/collect.js";
import { inferAnytime, type AnytimeResult } from "../../inference/anytime.js";
import { readCalibrationSlot } from "../../inference/model-io.js";
import {
  DEFAULT_POLICY_EPSILON, cutoffErrorsAsUser, dataFor, openCheckpoint, optionalInt, parseEpsilons, parsePolicies, progress, snnOf,
} from "../../inference/cli-support.js";

const usage = `spikecut infer: anytime inference that stops each sample at its cutoff

usage: spikecut infer --checkpoint SNN.safetensors [--policy topk] [--epsilon E] [--T N]
                      [--data bundled|DIR] [--limit N] [--json]

Runs the SNN one timestep at a time on the test split. After every step the accumulated output of each sample
goes to the cutoff policy; samples whose policy fires are finished and leave the batch, and the next samples of
the data take their places, so every step computes a full batch of undecided samples (everything stops at T;
converted IF networks and direct-trained LIF networks, TEBN included). The policy state comes from the checkpoint's
calibration slot (spikecut calibrate); when it holds none for this policy and ε, the policy is calibrated on the
fly on the training split (with calibration dropout) and a note says so. For comparison the same data is also
run for all T steps (skip with --no-baseline): the wall-clock speed-up is what a user actually gets, next to the
average-timestep speed-up T / mean t. Both timed runs follow one untimed batch of T steps (kernel compilation and
the buffer pool would otherwise count against whichever run came first).

options:
  --checkpoint FILE          an SNN checkpoint (a QCFS ANN checkpoint is converted on the fly) (required)
  --policy NAME              topk | conformal | confidence | timestep (default topk)
  --epsilon E                in [0, 1) (default: the stored state's, else topk 0.01, conformal/confidence 0.1)
  --timestep t               timestep policy: the fixed stop time (default T)
  --T N                      maximum timesteps (default: the checkpoint's T)
  --data bundled|DIR         where the data comes from (default: the checkpoint's dataset)
  --limit N                  use the first N test samples (and N training samples when calibrating on the fly)
  --batch-size N             default 128
  --calibration-dropout P    for on-the-fly calibration (default: the run config's, 0.3)
  --no-baseline              do not run the all-T comparison
  --no-refill                run each batch until its last sample stops before the next starts (default: waiting
                             samples take finished samples' places at once; same results, for comparison)
  --json                     print one JSON object

examples:
  spikecut infer --checkpoint snn.safetensors
  spikecut infer --checkpoint snn.safetensors --policy conformal --epsilon 0.05 --limit 500 --json
  spikecut infer --checkpoint runs/ann/best.safetensors --T 8 --data bundled
`;

export const command: CliCommand = {
  name: "infer",
  summary: "anytime inference that stops each sample at its cutoff",
  usage,
  options: {
    checkpoint: { type: "string", short: "c" },
    policy: { type: "string", short: "p" },
    epsilon: { type: "string", short: "e" },
    timestep: { type: "string" },
    T: { type: "string" },
    data: { type: "string" },
    limit: { type: "string" },
    "batch-size": { type: "string" },
    "calibration-dropout": { type: "string" },
    "no-baseline": { type: "boolean" },
    "no-refill": { type: "boolean" },
    json: { type: "boolean" },
  },
  async run({ values }, io) {
    const path = requireString(values, "checkpoint");
    const policy: PolicyName = parsePolicies(values.policy, ["topk", "conformal", "confidence", "timestep"], ["topk"])[0]!;
    const epsFlag = parseEpsilons(values.epsilon)?.[0];
    const Tflag = optionalInt(values.T, "T");
    const limit = optionalInt(values.limit, "limit");
    const batchSize = optionalInt(values["batch-size"], "batch-size") ?? 128;
    const timestepFlag = optionalInt(values.timestep, "timestep");
    if (timestepFlag !== undefined && policy !== "timestep") throw new UserError("--timestep applies to --policy timestep only");
    const pRaw = values["calibration-dropout"];
    const dropoutFlag = pRaw === undefined ? undefined : parseNumberFlag(pRaw, "calibration-dropout", { min: 0, max: 1, maxExclusive: true });
    const note = (s: string): void => io.stderr(`spikecut infer: note: ${s}\n`);

    const loaded = openCheckpoint(path);
    const { snn, T } = snnOf(loaded, Tflag, note);
    if (timestepFlag !== undefined && timestepFlag > T) throw new UserError(`--timestep: ${timestepFlag} is out of range, expected <= ${T}`);

    // the policy state: stored, or calibrated now
    const slot = loaded.kind === "ann" ? null : readCalibrationSlot(loaded.ckpt);
    let state: PolicyStateBase | null = null;
    let source = "";
    if (policy === "timestep" || policy === "confidence") {
      state = cutoffErrorsAsUser(() => getPolicy(policy).calibrate(null, epsFlag ?? DEFAULT_POLICY_EPSILON[policy], { T, ...(timestepFlag ? { timestep: timestepFlag } : {}) }));
      source = "no calibration needed";
    } else {
      const found = slot?.policies.find((p) => p.policy === policy && (epsFlag === undefined || p.epsilon === epsFlag) && stateFits(p.state, T));
      if (found) {
        state = found.state;
        source = `stored in ${path} (calibrated on ${found.calibration_samples} samples, dropout ${slot!.calibration_dropout})`;
      }
    }
    const eps = state?.epsilon ?? epsFlag ?? DEFAULT_POLICY_EPSILON[policy];
    const { data, description } = await dataFor(loaded, { data: values.data as string | undefined, limit });
    if (!state) {
      const dropout = dropoutFlag ?? loaded.config?.calibrationDropout ?? DEFAULT_CALIBRATION_DROPOUT;
      note(`${path} has no calibrated ${policy} (eps=${eps}, T=${T}) in its calibration slot: calibrating on the fly on ${Math.min(limit ?? data.train.count, data.train.count)} training samples with dropout ${dropout} (spikecut calibrate stores it)`);
      const cal = collectOutputs(snn, data.train, { T, batchSize, calibrationDropout: dropout, onProgress: progress("calibration outputs") });
      state = cutoffErrorsAsUser(() => getPolicy(policy).calibrate(cal.outputs, eps, { T }));
      source = `calibrated on the fly on ${cal.outputs.N} training samples (dropout ${dropout})`;
    }

    const refill = !values["no-refill"];
    // One untimed batch first: the first run in a process pays for compiling the kernels of its batch sizes and for
    // filling the buffer pool, which would otherwise count against whichever run came first.
    const all = getPolicy("timestep").calibrate(null, 0, { T });
    inferAnytime(snn, data.test, { policy: "timestep", state: all, T, batchSize, limit: batchSize });
    const r = inferAnytime(snn, data.test, { policy, state, T, batchSize, refill, monitors: true, onProgress: progress("anytime inference") });
    let full: AnytimeResult | null = null;
    if (!values["no-baseline"]) {
      full = inferAnytime(snn, data.test, { policy: "timestep", state: all, T, batchSize, refill, monitors: true, onProgress: progress("all T steps") });
    }
    const mean = (a?: Float64Array): number | null => (a && a.length ? a.reduce((x, y) => x + y, 0) / a.length : null);
    const out = {
      checkpoint: path,
      data: `${description}, test split`,
      samples: r.labels.length,
      T,
      policy,
      epsilon: policy === "timestep" ? null : eps,
      policy_source: source,
      accuracy: r.accuracy,
      mean_timestep: r.meanTimestep,
      timestep_speedup: T / r.meanTimestep,
      sample_steps: r.stepsRun,
      refill,
      wall_ms: r.wallMs,
      spikes_per_sample: mean(r.spikesPerSample),
      sops_per_sample: mean(r.sopsPerSample),
      all_T: full ? {
        accuracy: full.accuracy,
        wall_ms: full.wallMs,
        sample_steps: full.stepsRun,
        spikes_per_sample: mean(full.spikesPerSample),
        sops_per_sample: mean(full.sopsPerSample),
      } : null,
      wall_clock_speedup: full ? full.wallMs / r.wallMs : null,
      stop_histogram: histogram(r.timesteps, T),
    };
    if (values.json) {
      io.stdout(JSON.stringify({ ...out, timesteps: Array.from(r.timesteps), predictions: Array.from(r.predictions) }) + "\n");
      return 0;
    }
    io.stdout(`anytime inference on ${out.samples} samples (${out.data}), T=${T}, policy ${policy}${policy === "timestep" ? "" : ` eps=${eps}`} (${source})\n`);
    io.stdout(`  accuracy        ${(100 * r.accuracy).toFixed(2)} %${full ? `   (all ${T} steps: ${(100 * full.accuracy).toFixed(2)} %)` : ""}\n`);
    io.stdout(`  mean timestep   ${r.meanTimestep.toFixed(3)} of ${T}   (speed-up T/mean t ${(T / r.meanTimestep).toFixed(2)}x)\n`);
    io.stdout(`  stop times      ${out.stop_histogram.map((c, i) => `t${i + 1}:${c}`).join(" ")}\n`);
    if (full) io.stdout(`  wall-clock      ${r.wallMs.toFixed(0)} ms vs ${full.wallMs.toFixed(0)} ms for all ${T} steps   (speed-up ${(full.wallMs / r.wallMs).toFixed(2)}x)\n`);
    else io.stdout(`  wall-clock      ${r.wallMs.toFixed(0)} ms\n`);
    if (out.spikes_per_sample !== null) {
      io.stdout(`  spikes/sample   ${fmt(out.spikes_per_sample)}${full ? ` (all T: ${fmt(out.all_T!.spikes_per_sample!)})` : ""}; SOPs/sample ${fmt(out.sops_per_sample!)}${full ? ` (all T: ${fmt(out.all_T!.sops_per_sample!)})` : ""}\n`);
    }
    return 0;
  },
};

function stateFits(state: PolicyStateBase, T: number): boolean {
  const s = state as unknown as Record<string, unknown>;
  const table = (s.beta ?? s.thresholds) as unknown[] | undefined;
  return !Array.isArray(table) || table.length === T;
}

function histogram(ts: Int32Array, T: number): number[] {
  const h = new Array<number>(T).fill(0);
  for (const t of ts) h[t - 1]!++;
  return h;
}

function fmt(x: number): string {
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(1);
}
