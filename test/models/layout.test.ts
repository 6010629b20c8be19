// Whole networks with activations kept blocked16 between layers (the default on the oneDNN path) against the same
// networks with every activation NCHW (SPIKECUT_LAYOUT=plain): outputs, every parameter gradient, spike counts and
// SOPs (the monitors' per-neuron fan-outs follow the layout), anytime inference with samples leaving the batch.
import { afterEach, describe, expect, it } from "vitest";
import {
  Tensor,
  Rng,
  add,
  noGrad,
  tidy,
  blockedActivations,
  setBlockedActivations,
  tryNativeBackend,
  withBackend,
} from "../../src/engine/index.js";
import { buildModel } from "../../src/models/build.js";
import { convertToSNN } from "../../src/snn/convert.js";
import { taskLoss, withRegulariser } from "../../src/train/losses.js";
import { rcsLoss } from "../../src/snn/rcs.js";
import type { SpikingModel } from "../../src/models/spiking-model.js";
import { expectClose } from "../helpers/gradcheck.js";

const initial = blockedActivations();
afterEach(() => setBlockedActivations(initial));

const dnnl = tryNativeBackend()?.description.includes("oneDNN") ?? false;
const itDnnl = dnnl ? it : it.skip;

function images(B: number, seed: number): Tensor {
  const rng = new Rng(seed);
  return Tensor.rand([B, 1, 28, 28], rng);
}

function gradsOf(m: SpikingModel): Float32Array[] {
  return m.parameters().map((p) => new Float32Array(p.grad ? p.grad.data : new Float32Array(p.size)));
}

function trainStep(
  build: () => SpikingModel,
  blocked: boolean,
  lossType: "mean" | "tet",
  rcsAlpha = 0,
): { loss: number; grads: Float32Array[]; sawBlocked: boolean } {
  setBlockedActivations(blocked);
  const m = build();
  m.train();
  const x = images(8, 3);
  const labels = Int32Array.from({ length: 8 }, (_, i) => i % 10);
  let sawBlocked = false;
  const loss = tidy(() => {
    m.rcs.clear();
    m.rcs.enabled = rcsAlpha > 0;
    const out = m.call(x);
    const task = taskLoss(out, labels, { type: lossType });
    const l = withRegulariser(task, rcsAlpha > 0 ? rcsLoss(m.rcs, out, labels) : null, rcsAlpha);
    l.backward();
    m.rcs.clear();
    return l.item();
  });
  // a conv output inside the network: blocked on the oneDNN path when the mode is on
  noGrad(() => {
    // the second conv (32 → 32 channels) is where blocked16 starts
    const convs = m.net.children().filter((c) => c.constructor.name === "Conv2d");
    sawBlocked = convs[1]!.call(Tensor.zeros([8, 32, 28, 28])).layout === "blocked16";
  });
  return { loss, grads: gradsOf(m), sawBlocked };
}

describe("blocked16 activations through whole networks", () => {
  itDnnl("QCFS ANN training step: same loss and gradients as all-NCHW", () => {
    const build = (): SpikingModel => buildModel("vgg-small", { route: "ann", T: 1, L: 4, seed: 7 });
    const plain = trainStep(build, false, "mean");
    const blocked = trainStep(build, true, "mean");
    expect([plain.sawBlocked, blocked.sawBlocked]).toEqual([false, true]);
    expect(Math.abs(blocked.loss - plain.loss)).toBeLessThan(1e-4 * Math.abs(plain.loss) + 1e-6);
    plain.grads.forEach((g, i) => expectClose(blocked.grads[i]!, g, 2e-3, `parameter ${i}`));
  });

  itDnnl("QCFS ANN and LIF SNN training steps with the RCS regulariser: same loss and gradients", () => {
    for (const [build, type] of [
      [(): SpikingModel => buildModel("vgg-small", { route: "ann", T: 1, L: 4, seed: 7 }), "mean"],
      [(): SpikingModel => buildModel("vgg-small", { route: "snn", T: 3, seed: 11 }), "tet"],
    ] as const) {
      const plain = trainStep(build, false, type, 0.5);
      const blocked = trainStep(build, true, type, 0.5);
      expect(Math.abs(blocked.loss - plain.loss)).toBeLessThan(1e-4 * Math.abs(plain.loss) + 1e-6);
      plain.grads.forEach((g, i) => expectClose(blocked.grads[i]!, g, 2e-3, `parameter ${i}`));
    }
  });

  itDnnl("resnet20 QCFS training step: residual additions stay blocked, same loss and gradients as all-NCHW", () => {
    const run = (blocked: boolean): { loss: number; grads: Float32Array[]; sumLayout: string } => {
      setBlockedActivations(blocked);
      const m = buildModel("resnet20", { route: "ann", T: 1, L: 4, seed: 3 });
      m.train();
      const x = Tensor.rand([4, 3, 32, 32], new Rng(4));
      const labels = Int32Array.of(1, 7, 3, 9);
      const loss = tidy(() => {
        const l = taskLoss(m.call(x), labels, { type: "mean" });
        l.backward();
        return l.item();
      });
      // the first block's residual sum, as its activation receives it
      let sumLayout = "";
      noGrad(() => {
        const block = m.net.children().find((c) => c.constructor.name === "BasicBlock") as unknown as {
          bn2: { call(t: Tensor): Tensor };
          conv2: { call(t: Tensor): Tensor };
        };
        const h = block.conv2.call(Tensor.zeros([2, 16, 32, 32]));
        sumLayout = add(block.bn2.call(h), h).layout;
      });
      return { loss, grads: gradsOf(m), sumLayout };
    };
    const plain = run(false);
    const blocked = run(true);
    expect([plain.sumLayout, blocked.sumLayout]).toEqual(["plain", "blocked16"]);
    expect(Math.abs(blocked.loss - plain.loss)).toBeLessThan(1e-4 * Math.abs(plain.loss) + 1e-6);
    plain.grads.forEach((g, i) => expectClose(blocked.grads[i]!, g, 2e-3, `parameter ${i}`));
  });

  itDnnl("LIF + TEBN + TET training step (multi-step neurons, fused TEBN): same loss and gradients", () => {
    const build = (): SpikingModel => buildModel("vgg-small", { route: "snn", T: 3, seed: 11 });
    const plain = trainStep(build, false, "tet");
    const blocked = trainStep(build, true, "tet");
    expect([plain.sawBlocked, blocked.sawBlocked]).toEqual([false, true]);
    expect(Math.abs(blocked.loss - plain.loss)).toBeLessThan(1e-4 * Math.abs(plain.loss) + 1e-6);
    plain.grads.forEach((g, i) => expectClose(blocked.grads[i]!, g, 2e-3, `parameter ${i}`));
  });

  itDnnl("converted IF network, single-step with folded batch norm and samples leaving: outputs, spikes and SOPs", () => {
    const run = (blocked: boolean): { outs: Float32Array[]; spikes: Float32Array; sops: Float32Array } => {
      setBlockedActivations(blocked);
      const ann = buildModel("vgg-small", { route: "ann", T: 1, L: 4, seed: 5 });
      const snn = convertToSNN(ann, { T: 4 });
      snn.monitors.enable();
      const x = images(6, 9);
      const outs: Float32Array[] = [];
      noGrad(() => {
        snn.resetState();
        let xt = x;
        for (let t = 0; t < 4; t++) {
          outs.push(new Float32Array(snn.step(xt).data));
          if (t === 1) {
            // samples 1 and 4 stop here: their state and their input rows leave the batch
            const keep = Int32Array.from([0, 2, 3, 5]);
            snn.selectSamples(keep);
            xt = new Tensor(
              new Float32Array(Array.from(keep).flatMap((r) => Array.from(x.data.subarray(r * 784, (r + 1) * 784)))),
              [4, 1, 28, 28],
            );
          }
        }
      });
      const rec = snn.monitors.collect();
      return { outs, spikes: rec.totalSpikes, sops: rec.totalSops };
    };
    const plain = run(false);
    const blocked = run(true);
    plain.outs.forEach((o, t) => expectClose(blocked.outs[t]!, o, 1e-4, `output at step ${t}`));
    expect(Array.from(blocked.spikes)).toEqual(Array.from(plain.spikes));
    expectClose(blocked.sops, plain.sops, 1e-6, "SOPs");
  });

  it("on the reference backend every layer stays NCHW and the mode changes nothing", () => {
    withBackend("js", () => {
      const plain = trainStep(() => buildModel("vgg-small", { route: "ann", T: 1, L: 4, seed: 7 }), false, "mean");
      const blocked = trainStep(() => buildModel("vgg-small", { route: "ann", T: 1, L: 4, seed: 7 }), true, "mean");
      expect(blocked.sawBlocked).toBe(false);
      expect(blocked.loss).toBe(plain.loss);
    });
  });
});
