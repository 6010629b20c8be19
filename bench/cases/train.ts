/**
 * Training-step cases (issue 6): one full step of vgg-small at batch 128 — forward, loss, backward, SGD momentum
 * update — through the library (src/models, src/train), beside bench/torch/train_vgg_small.py.
 *   train_ann_vgg_small      QCFS ANN (L = 4), CE on the output, T = 1
 *   train_ann_vgg_small_rcs  the same plus the RCS-ANN regulariser (α = 0.005) on every QCFS layer
 *   train_snn_vgg_small_T4   LIF + TEBN, TET loss, T = 4 (static input repeated)
 *   train_snn_vgg_small_T4_rcs  the same plus the RCS-SNN regulariser (α = 0.005) on every LIF layer
 * work = training FLOPs: 3 × forward (forward, dx, dw) except the first conv, which needs no dx.
 */
import { Tensor } from "../../src/engine/tensor.js";
import { Rng } from "../../src/engine/random.js";
import { tidy } from "../../src/engine/memory.js";
import { buildModel } from "../../src/models/build.js";
import { taskLoss, withRegulariser } from "../../src/train/losses.js";
import { rcsLoss } from "../../src/snn/rcs.js";
import { SGD } from "../../src/train/optim/sgd.js";
import type { BenchCase, Prepared } from "./types.js";

const B = 128;

/** Forward multiply-accumulates per sample of vgg-small on 1×28×28, per layer. */
function vggSmallMacs(): { first: number; rest: number } {
  const conv = (cin: number, cout: number, hw: number) => cout * hw * hw * cin * 9;
  const first = conv(1, 32, 28);
  const rest = conv(32, 32, 28) + conv(32, 64, 14) + conv(64, 64, 14) + 3136 * 256 + 256 * 10;
  return { first, rest };
}

function trainStepFlops(T: number): number {
  const { first, rest } = vggSmallMacs();
  return 2 * B * T * (2 * first + 3 * rest);
}

/** α of the `_rcs` case (the demo's weight). */
const RCS_ALPHA = 0.005;

function trainCase(name: string, route: "ann" | "snn", T: number, rcs = false): BenchCase {
  return {
    name,
    kind: "compute",
    work: trainStepFlops(T),
    torch: "train_vgg_small.py",
    setup(): Prepared {
      const model = buildModel("vgg-small", route === "ann" ? { route, T: 1, L: 4, seed: 0 } : { route, T, neuron: "lif", tebn: true, seed: 0 });
      model.train();
      const opt = new SGD(model.namedParameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
      const rng = new Rng(1);
      const x = Tensor.randn([B, 1, 28, 28], rng);
      const labels = Int32Array.from({ length: B }, () => rng.int(10));
      // static input repeated over time, as the trainer feeds it
      const xt = new Float32Array(T * x.size);
      for (let t = 0; t < T; t++) xt.set(x.data, t * x.size);
      const input = new Tensor(xt, [T, B, 1, 28, 28]);
      return {
        level: "op",
        // one tidy scope per step, as the trainer runs it (activations reuse the previous step's buffers)
        run: () =>
          tidy(() => {
            if (rcs) {
              model.rcs.clear();
              model.rcs.enabled = true;
            }
            const out = model.forward(input);
            const task = taskLoss(out, labels, route === "ann" ? { type: "mean" } : { type: "tet", lambda: 1e-3, phi: 1 });
            const loss = rcs ? withRegulariser(task, rcsLoss(model.rcs, out, labels), RCS_ALPHA) : task;
            if (rcs) model.rcs.clear();
            opt.zeroGrad();
            loss.backward();
            opt.step();
          }),
        extra: rcs ? { batch: B, T, rcs_alpha: RCS_ALPHA } : { batch: B, T },
      };
    },
  };
}

export const cases: BenchCase[] = [
  trainCase("train_ann_vgg_small", "ann", 1),
  trainCase("train_ann_vgg_small_rcs", "ann", 1, true),
  trainCase("train_snn_vgg_small_T4", "snn", 4),
  trainCase("train_snn_vgg_small_T4_rcs", "snn", 4, true),
];
