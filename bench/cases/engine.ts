/** Engine cases from issue 3: conv, matmul, linear, batch norm (through the ops) and the fused LIF kernel. */
import { Tensor, batchNorm, blockedActivations, conv2d, getBackend, linear, matmul, noGrad, setBlockedActivations, tidy } from "../../src/engine/index.js";
import { Rng } from "../../src/engine/random.js";
import type { Conv2dParams, NeuronParams } from "../../src/engine/backend.js";
import { loadAddon } from "../../src/engine/native/index.js";
import type { BenchCase, Prepared } from "./types.js";

const rng = new Rng(42);
const randn = (shape: number[], requiresGrad = false): Tensor => Tensor.randn(shape, rng, 1, requiresGrad);

/**
 * A conv layer as a network runs it. With `layout: "blocked16"` (the default cases) the input and the incoming
 * gradient are stored the way spikecut's previous and next layers hand them over on the oneDNN path (nChw16c, made
 * once outside the timed loop), and the layer's output and dx stay in that layout; the `_nchw` cases give and take
 * plain NCHW tensors (blocked activations switched off while they run), so every call reorders in and out. A
 * one-channel input (first layer) is plain either way; its output is blocked16 in the default cases.
 */
function convCase(n: number, c: number, hw: number, k: number, backward: boolean, layout: "blocked16" | "nchw" = "blocked16",
                  winograd: 0 | 2 | 4 = 0): BenchCase {
  const flopsFwd = 2 * n * k * hw * hw * c * 9;
  // First layer (c = 1): nothing upstream needs dx, so backward is dw only, as in a real network.
  const needDx = c > 1;
  const suffix = (layout === "nchw" ? "_nchw" : "") + (winograd ? `_winograd${winograd}` : "");
  return {
    name: `conv2d_${n}x${c}x${hw}x${hw}_k3_${backward ? "fwd_bwd" : "fwd"}${suffix}`,
    kind: "compute",
    work: backward ? flopsFwd * (needDx ? 3 : 2) : flopsFwd,
    torch: "engine.py",
    setup(): Prepared {
      const blockIn = layout === "blocked16" && c % 16 === 0 && (getBackend().conv2dLayouts(convParamsOf(n, c, hw, k), false) & 1) !== 0;
      const x0 = randn([n, c, hw, hw]);
      const x = new Tensor(blockIn ? x0.toLayout("blocked16").storage : x0.storage, x0.shape, backward && needDx, blockIn ? "blocked16" : "plain");
      const w = randn([k, c, 3, 3], backward).requiresGrad_(backward);
      const extra: Record<string, unknown> = { layout: blockIn ? "blocked16" : "nchw" };
      const loaded = loadAddon();
      const addon = "addon" in loaded ? loaded.addon : null;
      const inMode = <T>(fn: () => T): T => {
        const prev = blockedActivations();
        if (layout === "nchw") setBlockedActivations(false);
        // the opt-in Winograd cases switch it on for their own calls only, then restore what was set
        const before = winograd && addon ? addon.info() : null;
        if (winograd && addon) {
          addon.setWinograd(true);
          addon.setWinogradTile(winograd);
        }
        try {
          return fn();
        } finally {
          setBlockedActivations(prev);
          if (before && addon) {
            addon.setWinograd(before.winograd);
            addon.setWinogradTile(before.winogradTile);
          }
        }
      };
      const probe = inMode(() => noGrad(() => conv2d(x, w, null, { padding: 1 })));
      Object.assign(extra, { output_layout: probe.layout === "blocked16" ? "blocked16" : "nchw" });
      // which kernels run: Winograd does fewer multiplications, so its gflops / peak_pct are direct-conv equivalents
      if (addon && getBackend().name === "native") {
        const q = { ...convParamsOf(n, c, hw, k), xBlocked: x.layout === "blocked16", yBlocked: probe.layout === "blocked16" };
        const algorithm = inMode(() => addon.convAlgorithm(q));
        extra.algorithm = algorithm === "winograd" ? `winograd F(${winograd}x${winograd},3x3)` : algorithm;
      }
      // every op case runs in a tidy scope, as training and inference do: outputs reuse pooled buffers
      if (!backward) return { level: "op", extra, run: () => inMode(() => tidy(() => void noGrad(() => conv2d(x, w, null, { padding: 1 })))) };
      const g = randn([n, k, hw, hw]).toLayout(probe.layout);
      return {
        level: "op",
        extra,
        run: () =>
          inMode(() =>
            tidy(() => {
              // what an optimiser's zeroGrad does: the gradients' memory goes back to the pool for the next step
              x.releaseGrad();
              w.releaseGrad();
              conv2d(x, w, null, { padding: 1 }).backward(g);
            }),
          ),
      };
    },
  };
}

function convParamsOf(n: number, c: number, hw: number, k: number): Conv2dParams {
  return { n, c, h: hw, w: hw, k, kh: 3, kw: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, groups: 1, oh: hw, ow: hw };
}

function linearCase(n: number, i: number, o: number, backward: boolean): BenchCase {
  return {
    name: `linear_${n}x${i}x${o}_${backward ? "fwd_bwd" : "fwd"}`,
    kind: "compute",
    work: 2 * n * i * o * (backward ? 3 : 1),
    torch: "engine.py",
    setup(): Prepared {
      const x = randn([n, i], backward);
      const w = randn([o, i], backward);
      const b = randn([o], backward);
      if (!backward) return { level: "op", run: () => tidy(() => void noGrad(() => linear(x, w, b))) };
      const g = randn([n, o]);
      return {
        level: "op",
        run: () =>
          tidy(() => {
            for (const t of [x, w, b]) t.releaseGrad();
            linear(x, w, b).backward(g);
          }),
      };
    },
  };
}

const matmulCase: BenchCase = {
  name: "matmul_512",
  kind: "compute",
  work: 2 * 512 ** 3,
  torch: "engine.py",
  setup(): Prepared {
    const a = randn([512, 512]);
    const b = randn([512, 512]);
    return { level: "op", run: () => tidy(() => void noGrad(() => matmul(a, b))) };
  },
};

const bnShape = [64, 32, 28, 28];
const bnBytes = 5 * 4 * bnShape.reduce((a, b) => a * b, 1); // fwd: read x, write y; bwd: read x, dy, write dx
const batchNormCase: BenchCase = {
  name: "batchnorm_64x32x28x28_fwd_bwd",
  kind: "memory",
  work: bnBytes,
  torch: "engine.py",
  setup(): Prepared {
    const x = randn(bnShape, true);
    const gamma = Tensor.ones([32], true);
    const beta = Tensor.zeros([32], true);
    const rm = Tensor.zeros([32]);
    const rv = Tensor.ones([32]);
    const g = randn(bnShape);
    return {
      level: "op",
      run: () =>
        tidy(() => {
          for (const t of [x, gamma, beta]) t.releaseGrad();
          batchNorm(x, gamma, beta, rm, rv, { training: true }).backward(g);
        }),
    };
  },
};

// 2^21 neurons, T = 8: forward reads x and writes S, U, H; backward reads gS, H, S and writes dx.
const lifM = 1 << 21;
const lifT = 8;
const lifCase: BenchCase = {
  name: "lif_fwd_bwd_T8_N2M",
  kind: "memory",
  work: 8 * 4 * lifT * lifM,
  torch: "engine.py",
  setup(): Prepared {
    const n = lifT * lifM;
    const x = randn([n]);
    const gS = randn([n]);
    const s = new Float32Array(n), u = new Float32Array(n), h = new Float32Array(n), dx = new Float32Array(n);
    const p: NeuronParams = { T: lifT, M: lifM, theta: 1, tau: 0.5, hardReset: true, v0: 0, surrogate: 0, surrogateParam: 1 };
    // Raw kernels with buffers reused: the per-call allocation of 4 x 64 MB arrays in the op would time the allocator.
    return {
      level: "kernel",
      run: () => {
        const be = getBackend();
        be.neuronForward(x.data, s, u, h, p);
        be.neuronBackward(gS.data, null, h, s, dx, p);
      },
    };
  },
};

export const cases: BenchCase[] = [
  convCase(64, 32, 14, 32, false),
  convCase(64, 32, 14, 32, true),
  convCase(64, 32, 14, 32, false, "nchw"),
  convCase(64, 32, 14, 32, true, "nchw"),
  convCase(64, 1, 28, 32, false),
  convCase(64, 1, 28, 32, true),
  convCase(64, 1, 28, 32, false, "nchw"),
  convCase(64, 1, 28, 32, true, "nchw"),
  // opt-in Winograd (SPIKECUT_WINOGRAD=1): the shape and vgg-small's 28x28 layer, beside its direct run
  convCase(64, 32, 14, 32, true, "blocked16", 2),
  convCase(64, 32, 14, 32, true, "blocked16", 4),
  convCase(64, 32, 28, 32, true),
  convCase(64, 32, 28, 32, true, "blocked16", 2),
  convCase(64, 32, 28, 32, true, "blocked16", 4),
  matmulCase,
  linearCase(128, 3136, 256, false),
  linearCase(128, 3136, 256, true),
  batchNormCase,
  lifCase,
];
