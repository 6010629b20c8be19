/**
 * Inference cases (issue 6), through the library (src/models, src/snn, src/inference):
 *   infer_snn_vgg_small_T8           converted IF vgg-small (θ = 1 in every layer, BN kept, eval), single-step
 *                                    mode, reset + 8 steps on a static batch of 128, beside
 *                                    bench/torch/infer_vgg_small.py (the same network with a SpikingJelly-style
 *                                    single-step IF in PyTorch, no_grad).
 *   infer_snn_lif_tebn_vgg_small_T4  the direct-training route's vgg-small (LIF, TEBN), eval, single-step, reset + 4
 *                                    steps on a static batch of 128, beside the same network in PyTorch.
 *   infer_cutoff_topk_vgg_small_T8   anytime inference (src/inference inferAnytime) with Top-K on 1024 bundled
 *                                    Fashion-MNIST test images: samples leave the batch at their cutoff. The network
 *                                    is vgg-small trained for 2 epochs on the bundled subset as a QCFS ANN and
 *                                    converted; Top-K (ε = 0.01) is calibrated on 2000 training images with the
 *                                    reference's calibration dropout. Reported: ours_ms (the anytime run), all_T_ms
 *                                    (the same code path with everyone running all 8 steps), the wall-clock speed-up
 *                                    and the average-timestep speed-up T / mean t.
 * work = 2 × forward MACs × sample-steps computed.
 */
import { Tensor } from "../../src/engine/tensor.js";
import { Rng } from "../../src/engine/random.js";
import { noGrad } from "../../src/engine/autograd.js";
import { buildModel } from "../../src/models/build.js";
import { convertToSNN } from "../../src/snn/convert.js";
import { QCFS } from "../../src/snn/qcfs.js";
import { loadBundledFashionMnist } from "../../src/data/bundled.js";
import { frameSplit, NORMALISATION } from "../../src/train/data.js";
import { collectOutputs, inferAnytime } from "../../src/inference/index.js";
import { tidy } from "../../src/engine/memory.js";
import { getPolicy } from "../../src/cutoff/index.js";
import type { SpikingModel } from "../../src/models/spiking-model.js";
import type { BenchCase, Prepared } from "./types.js";
import { vggSmallMacs } from "./macs.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveConfig } from "../../src/train/config.js";
import { train } from "../../src/train/trainer.js";

const B = 128;
const T = 8;

/** Forward multiply-accumulates per sample per step of vgg-small on 1×28×28. */
function vggSmallStepMacs(): number {
  const { first, rest } = vggSmallMacs();
  return first + rest;
}

function convertedVggSmall(): SpikingModel {
  const ann = buildModel("vgg-small", { route: "ann", T: 1, L: 4, seed: 0 });
  for (const a of ann.activationLayers()) if (a instanceof QCFS) a.lambda.data[0] = 1; // θ = 1 everywhere
  return convertToSNN(ann, { T }); // eval, single-step
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** Single-step inference of a network built by `make`: one run = reset + `steps` steps on a static batch of B. */
function singleStepCase(name: string, steps: number, make: () => SpikingModel): BenchCase {
  return {
    name,
    kind: "compute",
    work: 2 * vggSmallStepMacs() * B * steps,
    torch: "infer_vgg_small.py",
    setup(): Prepared {
      const snn = make();
      const x = Tensor.randn([B, 1, 28, 28], new Rng(1));
      return {
        level: "op",
        // one tidy scope per batch, as collectOutputs/inferAnytime run it
        run: () =>
          noGrad(() =>
            tidy(() => {
              snn.resetState();
              for (let t = 0; t < steps; t++) snn.step(x);
            }),
          ),
        extra: { batch: B, T: steps, step_mode: "single" },
      };
    },
  };
}

const stepCase = singleStepCase("infer_snn_vgg_small_T8", T, convertedVggSmall);

/**
 * The direct-training route's network at inference: vgg-small with LIF neurons (τ = 0.5, θ = 1, hard reset) and
 * TEBN after every conv, eval mode, single-step (TEBN folded into the LIF step with each row's p_t), reset + 4 steps
 * on a static batch of 128, beside the same network in PyTorch (BatchNorm2d eval times p_t, a single-step LIF).
 */
const lifStepCase = singleStepCase("infer_snn_lif_tebn_vgg_small_T4", 4, () => {
  const snn = buildModel("vgg-small", { route: "snn", neuron: "lif", tebn: true, T: 4, seed: 0 });
  snn.eval();
  return snn.setStepMode("single");
});

/** vgg-small trained briefly as a QCFS ANN on the bundled subset (so Top-K has something real to cut), converted. */
async function trainedVggSmall(): Promise<SpikingModel> {
  const out = mkdtempSync(join(tmpdir(), "spikecut-bench-"));
  const config = resolveConfig(
    {
      dataset: { name: "fashion-mnist", bundled: true },
      model: { preset: "vgg-small", route: "ann" },
      // λ₀ = 2 as in the demo: with the paper's 8 and two epochs the converted net barely converges and Top-K cuts little
      epochs: 2, batchSize: 128, T, L: 4, lambdaInit: 2, seed: 1200, outDir: out,
      optimiser: { lr: 0.1 }, schedule: { type: "cosine", per: "step" },
    },
    {},
    "bench config",
  );
  try {
    const r = await train(config, { progress: false });
    return convertToSNN(r.model as SpikingModel, { T });
  } finally {
    // its checkpoints are of no use after the bench
    rmSync(out, { recursive: true, force: true });
  }
}

const N_TEST = 1024;

const cutoffCase: BenchCase = {
  name: "infer_cutoff_topk_vgg_small_T8",
  kind: "compute",
  work: 0, // set in setup from the sample-steps actually computed
  async setup(): Promise<Prepared> {
    const snn = await trainedVggSmall();
    const norm = NORMALISATION["fashion-mnist"]!;
    const train = frameSplit(loadBundledFashionMnist("train"), { normalise: norm });
    const test = frameSplit(loadBundledFashionMnist("test"), { normalise: norm });
    // Top-K at eps = 0.01 calibrated as the paper does: training images, calibration dropout 0.3; in the default step
    // mode (single: the same outputs as multi-step, which held [T·B, ...] activations, 100 MB per layer output, and
    // set the bench's peak RSS)
    const cal = collectOutputs(snn, train, { T, batchSize: 128, limit: 2000, calibrationDropout: 0.3, seed: 0 }).outputs;
    const topk = getPolicy("topk");
    const state = topk.calibrate(cal, 0.01, { T });
    const all = getPolicy("timestep").calibrate(null, 0, { T });
    const batches = Array.from({ length: N_TEST / B }, (_, k) => test.batch(Int32Array.from({ length: B }, (_, i) => k * B + i), null));
    const anytime = () => inferAnytime(snn, batches, { policy: topk, state, T, batchSize: B });
    const full = () => inferAnytime(snn, batches, { policy: "timestep", state: all, T, batchSize: B });
    // each batch until its last sample stops (the behaviour before refill), for the record
    const perBatch = () => inferAnytime(snn, batches, { policy: topk, state, T, batchSize: B, refill: false });
    // medians of a few alternating runs of the three, measured the same way
    const ta: number[] = [];
    const tf: number[] = [];
    const tb: number[] = [];
    let ra = anytime();
    let rf = full();
    perBatch();
    for (let i = 0; i < 3; i++) {
      ra = anytime();
      ta.push(ra.wallMs);
      rf = full();
      tf.push(rf.wallMs);
      tb.push(perBatch().wallMs);
    }
    cutoffCase.work = 2 * vggSmallStepMacs() * ra.stepsRun;
    const mAny = median(ta);
    const mAll = median(tf);
    return {
      level: "op",
      run: () => void anytime(),
      extra: {
        batch: B,
        T,
        samples: N_TEST,
        calibration: "vgg-small QCFS ANN (lambda0 2) trained 2 epochs on the bundled subset, converted; Top-K eps=0.01 on 2000 training images with calibration dropout 0.3",
        accuracy_cutoff: +ra.accuracy.toFixed(4),
        accuracy_all_T: +rf.accuracy.toFixed(4),
        mean_timestep: +ra.meanTimestep.toFixed(3),
        timestep_speedup: +(T / ra.meanTimestep).toFixed(3),
        sample_steps: ra.stepsRun,
        anytime_ms_setup: +mAny.toFixed(3),
        all_T_ms: +mAll.toFixed(3),
        wall_clock_speedup: +(mAll / mAny).toFixed(3),
        anytime_no_refill_ms: +median(tb).toFixed(3),
      },
    };
  },
};

export const cases: BenchCase[] = [stepCase, lifStepCase, cutoffCase];
