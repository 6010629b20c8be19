/**
 * Inference cases (issue 6), through the library (src/models, src/snn, src/inference):
 *   infer_snn_vgg_small_T8           converted IF vgg-small (θ = 1 in every layer, BN kept, eval), single-step
 *                                    mode, reset + 8 steps on a static batch of 128, beside
 *                                    bench/torch/infer_vgg_small.py (the same network with a SpikingJelly-style
 *                                    single-step IF in PyTorch, no_grad).
 *   infer_cutoff_topk_vgg_small_T8   anytime inference (src/inference inferAnytime) with Top-K on 128 bundled
 *                                    Fashion-MNIST test images: samples leave the batch at their cutoff. The network
 *                                    is the same untrained converted vgg-small, so Top-K is calibrated on its own
 *                                    outputs: β(t) at ε = 0.05 on 512 training images (no calibration dropout: the labels are its own clean prediction)
 *                                    with the network's own all-T prediction as the label ("stop once the prediction
 *                                    has settled"). Reported: ours_ms (the anytime run), all_T_ms (the same code
 *                                    path with everyone running all 8 steps), the wall-clock speed-up and the
 *                                    average-timestep speed-up T / mean t.
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
import { argmaxOfRow, getPolicy, type CutoffOutputs } from "../../src/cutoff/index.js";
import type { SpikingModel } from "../../src/models/spiking-model.js";
import type { BenchCase, Prepared } from "./types.js";

const B = 128;
const T = 8;

/** Forward multiply-accumulates per sample per step of vgg-small on 1×28×28. */
function vggSmallMacs(): number {
  const conv = (cin: number, cout: number, hw: number) => cout * hw * hw * cin * 9;
  return conv(1, 32, 28) + conv(32, 32, 28) + conv(32, 64, 14) + conv(64, 64, 14) + 3136 * 256 + 256 * 10;
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

const stepCase: BenchCase = {
  name: "infer_snn_vgg_small_T8",
  kind: "compute",
  work: 2 * vggSmallMacs() * B * T,
  torch: "infer_vgg_small.py",
  setup(): Prepared {
    const snn = convertedVggSmall();
    const x = Tensor.randn([B, 1, 28, 28], new Rng(1));
    return {
      level: "op",
      run: () =>
        noGrad(() => {
          snn.resetState();
          for (let t = 0; t < T; t++) snn.step(x);
        }),
      extra: { batch: B, T, step_mode: "single" },
    };
  },
};

const cutoffCase: BenchCase = {
  name: "infer_cutoff_topk_vgg_small_T8",
  kind: "compute",
  work: 0, // set in setup from the sample-steps actually computed
  setup(): Prepared {
    const snn = convertedVggSmall();
    const norm = NORMALISATION["fashion-mnist"]!;
    const train = frameSplit(loadBundledFashionMnist("train"), { normalise: norm });
    const test = frameSplit(loadBundledFashionMnist("test"), { normalise: norm });
    // calibrate Top-K on the network's own outputs: label = its prediction at T
    const cal = collectOutputs(snn, train, { T, batchSize: 128, limit: 512, calibrationDropout: 0, seed: 0 }).outputs;
    const pseudo = new Int32Array(cal.N);
    for (let n = 0; n < cal.N; n++) pseudo[n] = argmaxOfRow(cal.Y, ((T - 1) * cal.N + n) * cal.K, cal.K);
    const calSelf: CutoffOutputs = { ...cal, labels: pseudo };
    const topk = getPolicy("topk");
    const state = topk.calibrate(calSelf, 0.05, { T });
    const all = getPolicy("timestep").calibrate(null, 0, { T });
    const batch = [test.batch(Int32Array.from({ length: B }, (_, i) => i), null)];
    const anytime = () => inferAnytime(snn, batch, { policy: topk, state, T, batchSize: B });
    const full = () => inferAnytime(snn, batch, { policy: "timestep", state: all, T, batchSize: B });
    // medians of a few alternating runs of both, measured the same way
    const ta: number[] = [];
    const tf: number[] = [];
    let ra = anytime();
    let rf = full();
    for (let i = 0; i < 5; i++) {
      ra = anytime();
      ta.push(ra.wallMs);
      rf = full();
      tf.push(rf.wallMs);
    }
    let agree = 0;
    for (let n = 0; n < B; n++) if (ra.predictions[n] === rf.predictions[n]) agree++;
    cutoffCase.work = 2 * vggSmallMacs() * ra.stepsRun;
    const mAny = median(ta);
    const mAll = median(tf);
    return {
      level: "op",
      run: () => void anytime(),
      extra: {
        batch: B,
        T,
        calibration: "self-calibrated: Top-K eps=0.05 on 512 training images (no dropout), labels = the untrained network's own all-T prediction",
        mean_timestep: +ra.meanTimestep.toFixed(3),
        timestep_speedup: +(T / ra.meanTimestep).toFixed(3),
        sample_steps: ra.stepsRun,
        active_per_step: ra.activePerStep[0],
        anytime_ms_setup: +mAny.toFixed(3),
        all_T_ms: +mAll.toFixed(3),
        wall_clock_speedup: +(mAll / mAny).toFixed(3),
        agreement_with_all_T: agree / B,
        accuracy_vs_labels: +ra.accuracy.toFixed(4),
      },
    };
  },
};

export const cases: BenchCase[] = [stepCase, cutoffCase];
