/**
 * Training-step cases (issue 6): one full step — forward, loss, backward, SGD momentum update — through the library
 * (src/models, src/train), beside bench/torch/train_vgg_small.py and train_resnet20.py.
 *   train_ann_vgg_small      vgg-small at batch 128: QCFS ANN (L = 4), CE on the output, T = 1
 *   train_ann_vgg_small_rcs  the same plus the RCS-ANN regulariser (α = 0.005) on every QCFS layer
 *   train_snn_vgg_small_T4   LIF + TEBN, TET loss, T = 4 (static input repeated)
 *   train_snn_vgg_small_T4_rcs  the same plus the RCS-SNN regulariser (α = 0.005) on every LIF layer
 *   train_ann_resnet20       resnet20 on 3×32×32 (CIFAR-shaped) at batch 128, QCFS ANN as above: 16-channel layers,
 *                            stride-2 and 1×1 shortcut convs, residual additions
 *   train_snn_resnet20_T4    resnet20 LIF + TEBN + TET at batch 32, T = 4
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
import { resnet20Macs, vggSmallMacs, type Macs } from "./macs.js";

interface Net {
  preset: "vgg-small" | "resnet20";
  input: [number, number, number];
  macs: Macs;
  torch: string;
}

const VGG_SMALL: Net = { preset: "vgg-small", input: [1, 28, 28], macs: vggSmallMacs(), torch: "train_vgg_small.py" };
const RESNET20: Net = { preset: "resnet20", input: [3, 32, 32], macs: resnet20Macs(), torch: "train_resnet20.py" };

function trainStepFlops(net: Net, B: number, T: number): number {
  const { first, rest } = net.macs;
  return 2 * B * T * (2 * first + 3 * rest);
}

/** α of the `_rcs` case (the demo's weight). */
const RCS_ALPHA = 0.005;

function trainCase(name: string, net: Net, B: number, route: "ann" | "snn", T: number, rcs = false): BenchCase {
  return {
    name,
    kind: "compute",
    work: trainStepFlops(net, B, T),
    torch: net.torch,
    setup(): Prepared {
      const model = buildModel(net.preset, route === "ann" ? { route, T: 1, L: 4, seed: 0 } : { route, T, neuron: "lif", tebn: true, seed: 0 });
      model.train();
      const opt = new SGD(model.namedParameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
      const rng = new Rng(1);
      const x = Tensor.randn([B, ...net.input], rng);
      const labels = Int32Array.from({ length: B }, () => rng.int(10));
      // static input repeated over time, as the trainer feeds it
      const xt = new Float32Array(T * x.size);
      for (let t = 0; t < T; t++) xt.set(x.data, t * x.size);
      const input = new Tensor(xt, [T, B, ...net.input]);
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
  trainCase("train_ann_vgg_small", VGG_SMALL, 128, "ann", 1),
  trainCase("train_ann_vgg_small_rcs", VGG_SMALL, 128, "ann", 1, true),
  trainCase("train_snn_vgg_small_T4", VGG_SMALL, 128, "snn", 4),
  trainCase("train_snn_vgg_small_T4_rcs", VGG_SMALL, 128, "snn", 4, true),
  trainCase("train_ann_resnet20", RESNET20, 128, "ann", 1),
  trainCase("train_snn_resnet20_T4", RESNET20, 32, "snn", 4),
];
