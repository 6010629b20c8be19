/**
 * `spikecut calibrate`: fit cutoff policies on the training split (with calibration dropout, spec §3.4/§3.5) and
 * store their states in the checkpoint's calibration slot (atomic rewrite).
 */
import { UserError, parseNumberFlag, requireString, type CliCommand } from "../command.js";
import { accuracyPerTimestep, getPolicy, type PolicyName, type PolicyStateBase } from "../../cutoff/index.js";
import { collectOutputs, DEFAULT_CALIBRATION_DROPOUT } from "../../inference/collect.js";
import { writeCalibrationSlot, type CalibrationSlot, type StoredPolicy } from "../../inference/model-io.js";
import { loadCheckpoint } from "../../train/checkpoint.js";
import {
  DEFAULT_POLICY_EPSILON, checkTebnSteps, cutoffErrorsAsUser, dataFor, openCheckpoint, optionalInt, parseEpsilons, parsePolicies, progress,
} from "../../inference/cli-support.js";

const usage = `spikecut calibrate: fit cutoff policies on training data and store them in the checkpoint

usage: spikecut calibrate --checkpoint SNN.safetensors [--policy topk|conformal|confidence ...] [--epsilon E ...]
                          [--T N] [--calibration-dropout 0.3] [--data bundled|DIR] [--limit N] [--json]

Runs the SNN over the training split (no augmentation), collects the accumulated outputs Y(t) for t = 1..T with
calibration dropout on every spiking layer (the reference's default 0.3: conservative thresholds; 0 turns it off),
fits every policy at every ε and writes the states into the checkpoint's calibration slot (replacing what was
there; the file is rewritten atomically). spikecut infer uses them.

options:
  --checkpoint FILE          an SNN checkpoint (spikecut convert, or a directly trained SNN) (required)
  --policy NAME              topk | conformal | confidence; repeat for several (default topk)
  --epsilon E                in [0, 1); repeat for several (default: topk 0.01, conformal 0.1, confidence 0.1)
  --T N                      timesteps (default: the checkpoint's T)
  --calibration-dropout P    dropout on spiking outputs while calibrating, in [0, 1) (default: the run config's, 0.3)
  --data bundled|DIR         where the training split comes from (default: the checkpoint's dataset)
  --limit N                  use the first N training samples (default: all)
  --batch-size N             default 128
  --seed N                   seed of the dropout masks (default 0)
  --out FILE                 write the calibrated checkpoint here instead of rewriting --checkpoint
  --json                     print one JSON object (the stored calibration slot plus accuracy_per_timestep)

examples:
  spikecut calibrate --checkpoint snn.safetensors
  spikecut calibrate --checkpoint snn.safetensors --policy topk --policy conformal --epsilon 0.01 --epsilon 0.05
  spikecut calibrate --checkpoint snn.safetensors --calibration-dropout 0 --limit 2000 --json
`;

export const command: CliCommand = {
  name: "calibrate",
  summary: "fit cutoff policies (Top-K, conformal) on training data and store them in the checkpoint",
  usage,
  options: {
    checkpoint: { type: "string", short: "c" },
    policy: { type: "string", short: "p", multiple: true },
    epsilon: { type: "string", short: "e", multiple: true },
    T: { type: "string" },
    "calibration-dropout": { type: "string" },
    data: { type: "string" },
    limit: { type: "string" },
    "batch-size": { type: "string" },
    seed: { type: "string" },
    out: { type: "string", short: "o" },
    json: { type: "boolean" },
  },
  async run({ values }, io) {
    const path = requireString(values, "checkpoint");
    const policies = parsePolicies(values.policy, ["topk", "conformal", "confidence"], ["topk"]);
    const epsFlag = parseEpsilons(values.epsilon);
    const Tflag = optionalInt(values.T, "T");
    const limit = optionalInt(values.limit, "limit");
    const batchSize = optionalInt(values["batch-size"], "batch-size") ?? 128;
    const seed = optionalInt(values.seed, "seed", 0) ?? 0;
    const pRaw = values["calibration-dropout"];
    const loaded = openCheckpoint(path);
    const dropout = pRaw !== undefined
      ? parseNumberFlag(pRaw, "calibration-dropout", { min: 0, max: 1, maxExclusive: true })
      : loaded.config?.calibrationDropout ?? DEFAULT_CALIBRATION_DROPOUT;
    if (loaded.kind === "ann") {
      throw new UserError(`--checkpoint ${path} holds a QCFS ANN: calibrate an SNN checkpoint (run spikecut convert --checkpoint ${path} --out SNN.safetensors first)`);
    }
    const snn = loaded.model;
    const T = Tflag ?? snn.T;
    checkTebnSteps(snn, T);
    const { data, description } = await dataFor(loaded, { data: values.data as string | undefined, trainLimit: limit, limit: 1 });
    const cal = collectOutputs(snn, data.train, { T, batchSize, calibrationDropout: dropout, seed, onProgress: progress("calibration outputs") });
    const stored: StoredPolicy[] = [];
    for (const name of policies) {
      const eps = epsFlag ?? [DEFAULT_POLICY_EPSILON[name]];
      for (const e of eps) {
        const state: PolicyStateBase = cutoffErrorsAsUser(() => getPolicy(name).calibrate(cal.outputs, e, { T }));
        stored.push({ policy: name, epsilon: e, state, calibration_samples: cal.outputs.N });
      }
    }
    const slot: CalibrationSlot = {
      schema: "spikecut.calibration/v1",
      created: new Date().toISOString(),
      T,
      calibration_dropout: dropout,
      seed,
      data: `${description}, training split`,
      samples: cal.outputs.N,
      policies: stored,
    };
    const target = typeof values.out === "string" ? values.out : path;
    try {
      writeCalibrationSlot(loadCheckpoint(path), slot, target);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code) throw new UserError(`${target}: cannot write the checkpoint (${code})`);
      throw e;
    }
    const acc = accuracyPerTimestep(cal.outputs);
    if (values.json) {
      io.stdout(JSON.stringify({ checkpoint: target, ...slot, accuracy_per_timestep: acc }) + "\n");
      return 0;
    }
    io.stdout(`calibrated ${stored.length} polic${stored.length === 1 ? "y" : "ies"} on ${cal.outputs.N} training samples (${description}), T=${T}, calibration dropout ${dropout}\n`);
    io.stdout(`  calibration acc(t) (with dropout): ${acc.map((a) => (100 * a).toFixed(1)).join(" ")} %\n`);
    for (const s of stored) {
      const st = s.state as unknown as Record<string, unknown>;
      const detail = Array.isArray(st.beta) ? `beta(t) = ${(st.beta as number[]).map((b) => +b.toPrecision(4)).join(" ")}`
        : Array.isArray(st.thresholds) ? `thresholds(t) = ${(st.thresholds as (number | null)[]).map((b) => (b === null ? "inf" : +b.toPrecision(4))).join(" ")}`
        : `threshold = ${String(st.threshold)}`;
      io.stdout(`  ${(s.policy as PolicyName).padEnd(10)} eps=${String(s.epsilon).padEnd(6)} ${detail}\n`);
    }
    io.stdout(`stored in the calibration slot of ${target}\n`);
    return 0;
  },
};
