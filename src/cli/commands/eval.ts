/**
 * `spikecut eval`: per-step outputs of a live model on the calibration (training, with calibration dropout) and
 * test splits, every cutoff policy over an ε sweep, OCT, acc(t), both speed-ups, cost accounting from the spike
 * monitors, a report (src/report) and optionally the outputs file (JSON, the fixture's format) for spikecut cutoff.
 */
import { writeFileAtomic } from "../../report/write.js";
import { UserError, parseNumberFlag, requireString, type CliCommand } from "../command.js";
import { accuracyPerTimestep } from "../../cutoff/index.js";
import { writeReport } from "../../report/index.js";
import { DEFAULT_CALIBRATION_DROPOUT } from "../../inference/collect.js";
import { evaluateModel } from "../../inference/evaluate-model.js";
import { cutoffErrorsAsUser, dataFor, openCheckpoint, optionalInt, parseEpsilons, parsePolicies, progress, snnOf } from "../../inference/cli-support.js";


const usage = `spikecut eval: per-step outputs, every cutoff policy, an epsilon sweep, cost accounting and a report

usage: spikecut eval --checkpoint CKPT [--T N] [--epsilon E ...] [--policy NAME ...] [--report DIR] [--json]
                     [--outputs FILE.json] [--data bundled|DIR] [--limit N] [--calibration-limit N]

Runs the SNN over the training split (calibration outputs, with calibration dropout, spec §3.4) and the test
split (clean network, spike monitors on), then evaluates on the test outputs: acc(t) for every t, OCT (the
oracle), and every policy over the ε sweep with accuracy, mean timestep and both speed-ups (T / mean t, and the
fixed t reaching the same accuracy / mean t), plus spikes, SOPs, MACs and an energy estimate summed up to each
sample's stop time. A QCFS ANN checkpoint is converted on the fly (note on stderr).

options:
  --checkpoint FILE          SNN (or QCFS ANN) checkpoint (required)
  --T N                      timesteps (default: the checkpoint's T)
  --policy NAME              topk | confidence | conformal | timestep; repeat (default: all four)
  --epsilon E                in [0, 1); repeat for the sweep, used for every policy
                             (default: topk 0 0.01 0.02 0.05 0.1; confidence 0.01 0.05 0.1 0.2 0.3; conformal 0.01 0.05 0.1 0.2)
  --calibration-dropout P    in [0, 1) (default: the run config's, 0.3)
  --data bundled|DIR         data location (default: the checkpoint's dataset)
  --limit N                  first N test samples
  --calibration-limit N      first N training samples for calibration (default: --limit, else all)
  --batch-size N             default 128
  --seed N                   seed of the calibration-dropout masks (default 0)
  --report DIR               write report.json, report.md, report.html into DIR
  --outputs FILE.json        write the per-step outputs {T, classes, calibration, test} (spikecut cutoff --input reads it)
  --title TEXT               report title
  --json                     print one JSON object

examples:
  spikecut eval --checkpoint snn.safetensors --report out/eval
  spikecut eval --checkpoint snn.safetensors --epsilon 0 --epsilon 0.01 --epsilon 0.05 --json
  spikecut eval --checkpoint snn.safetensors --limit 500 --outputs outputs.json && spikecut cutoff --input outputs.json --policy topk
`;

export const command: CliCommand = {
  name: "eval",
  summary: "per-step outputs, every cutoff policy, an epsilon sweep, cost accounting and a report",
  usage,
  options: {
    checkpoint: { type: "string", short: "c" },
    T: { type: "string" },
    policy: { type: "string", short: "p", multiple: true },
    epsilon: { type: "string", short: "e", multiple: true },
    "calibration-dropout": { type: "string" },
    data: { type: "string" },
    limit: { type: "string" },
    "calibration-limit": { type: "string" },
    "batch-size": { type: "string" },
    seed: { type: "string" },
    report: { type: "string" },
    outputs: { type: "string" },
    title: { type: "string" },
    json: { type: "boolean" },
  },
  async run({ values }, io) {
    const path = requireString(values, "checkpoint");
    const policies = parsePolicies(values.policy, ["topk", "confidence", "conformal", "timestep"], ["topk", "confidence", "conformal", "timestep"]);
    const epsFlag = parseEpsilons(values.epsilon);
    const Tflag = optionalInt(values.T, "T");
    const limit = optionalInt(values.limit, "limit");
    const calLimit = optionalInt(values["calibration-limit"], "calibration-limit");
    const batchSize = optionalInt(values["batch-size"], "batch-size") ?? 128;
    const seed = optionalInt(values.seed, "seed", 0) ?? 0;
    const pRaw = values["calibration-dropout"];
    if (values.outputs !== undefined && !String(values.outputs).endsWith(".json")) throw new UserError(`--outputs ${String(values.outputs)}: expected a .json file name`);
    const note = (s: string): void => io.stderr(`spikecut eval: note: ${s}\n`);

    const loaded = openCheckpoint(path);
    const dropout = pRaw !== undefined
      ? parseNumberFlag(pRaw, "calibration-dropout", { min: 0, max: 1, maxExclusive: true })
      : loaded.config?.calibrationDropout ?? DEFAULT_CALIBRATION_DROPOUT;
    const { snn, T } = snnOf(loaded, Tflag, note);
    const calBar = progress("calibration outputs");
    const testBar = progress("test outputs");
    const { data, description } = await dataFor(loaded, { data: values.data as string | undefined, limit, trainLimit: calLimit ?? limit });

    const ev = evaluateModel(snn, { train: data.train, test: data.test }, {
      T, policies, epsilons: epsFlag, calibrationDropout: dropout, batchSize, seed,
      title: typeof values.title === "string" ? values.title : `Evaluation of ${path}`,
      source: path,
      calibrationDescription: `${description}, training split (calibration dropout ${dropout})`,
      notes: [`test data: ${description}`],
      onProgress: (stage, d, n) => (stage === "calibration" ? calBar : testBar)?.(d, n),
      guard: cutoffErrorsAsUser,
    });
    const { calibration: cal, test, sweeps, operatingPoint: opPoint, cost: costReport } = ev;
    const accPerT = ev.accuracyPerTimestep;
    const o = ev.oct;
    if (typeof values.outputs === "string") {
      const split = (perStep: Float32Array, labels: Int32Array, N: number, K: number) => ({
        per_step: Array.from({ length: T }, (_, t) => Array.from({ length: N }, (_, n) => Array.from(perStep.subarray((t * N + n) * K, (t * N + n + 1) * K)))),
        labels: Array.from(labels),
      });
      const doc = {
        note: `per-step outputs of ${path} written by spikecut eval; calibration = training split with calibration dropout ${dropout}, test = clean network`,
        T,
        classes: test.outputs.K,
        calibration: split(cal.perStep, cal.outputs.labels, cal.outputs.N, cal.outputs.K),
        test: split(test.perStep, test.outputs.labels, test.outputs.N, test.outputs.K),
      };
      try {
        writeFileAtomic(values.outputs, JSON.stringify(doc));
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code) throw new UserError(`--outputs ${values.outputs}: cannot write (${code})`);
        throw e;
      }
    }
    if (typeof values.report === "string") {
      const report = ev.report;
      try {
        writeReport(values.report, report);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code) throw new UserError(`--report ${values.report}: cannot write the report (${code})`);
        throw e;
      }
    }

    const summary = {
      checkpoint: path,
      model: snn.spec.name,
      T,
      data: description,
      calibration: { samples: cal.outputs.N, dropout, accuracy_per_timestep: accuracyPerTimestep(cal.outputs) },
      test: { samples: test.outputs.N },
      accuracy_per_timestep: accPerT,
      oct: { accuracy: o.accuracy, mean_timestep: o.mean_timestep },
      policies: sweeps.map((s) => ({
        policy: s.policy,
        results: s.results.map((r) => ({ epsilon: r.epsilon, accuracy: r.accuracy, mean_timestep: r.mean_timestep, speedup: r.speedup, stop_histogram: r.stop_histogram })),
        frontier: s.frontier,
      })),
      cost: { operating_point: { policy: opPoint.policy, epsilon: opPoint.epsilon }, totals: costReport.totals, assumption: costReport.assumption },
      report: typeof values.report === "string" ? values.report : null,
      outputs: typeof values.outputs === "string" ? values.outputs : null,
    };
    if (values.json) {
      io.stdout(JSON.stringify(summary) + "\n");
      return 0;
    }
    io.stdout(`eval ${path} (${snn.spec.name}), T=${T}: calibration ${cal.outputs.N} training samples (dropout ${dropout}), test ${test.outputs.N} samples (${description})\n`);
    io.stdout(`  acc(t), t=1..${T}: ${accPerT.map((a) => (100 * a).toFixed(2)).join(" ")} %\n`);
    io.stdout(`  OCT (oracle): accuracy ${(100 * o.accuracy).toFixed(2)} %, mean ${o.mean_timestep.toFixed(3)} steps\n`);
    io.stdout(`  ${"policy".padEnd(11)}${"epsilon".padEnd(9)}${"accuracy".padStart(9)}${"mean t".padStart(9)}${"T/avg".padStart(8)}${"eq.t/avg".padStart(10)}\n`);
    for (const s of sweeps) {
      for (const r of s.results) {
        const sp = r.speedup;
        io.stdout(`  ${s.policy.padEnd(11)}${String(r.epsilon ?? "-").padEnd(9)}${(100 * r.accuracy).toFixed(2).padStart(8)}%${r.mean_timestep.toFixed(3).padStart(9)}${(sp.vs_max_timestep.toFixed(2) + "x").padStart(8)}${(sp.vs_equal_accuracy === null ? "-" : sp.vs_equal_accuracy.toFixed(2) + "x").padStart(10)}\n`);
      }
    }
    const tot = costReport.totals;
    const f = (x: number): string => (x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : x >= 1e3 ? `${(x / 1e3).toFixed(1)}k` : x.toFixed(1));
    io.stdout(`  cost per sample at ${opPoint.policy} eps=${opPoint.epsilon} vs all T: spikes ${f(tot.spikes_per_sample.cutoff)} vs ${f(tot.spikes_per_sample.full)}, SOPs ${f(tot.sops_per_sample.cutoff)} vs ${f(tot.sops_per_sample.full)}, energy ${(tot.energy_pj_per_sample.cutoff / 1e6).toFixed(3)} vs ${(tot.energy_pj_per_sample.full / 1e6).toFixed(3)} uJ (estimate)\n`);
    if (typeof values.report === "string") io.stdout(`report written to ${values.report}/report.{json,md,html}\n`);
    if (typeof values.outputs === "string") io.stdout(`outputs written to ${values.outputs} (spikecut cutoff --input ${values.outputs} re-analyses them)\n`);
    return 0;
  },
};
