// Per-kernel time of one training step (wraps every backend method with a timer). Usage:
//   node scripts/profile-step.mjs [ann|snn] [T]
import { performance } from "node:perf_hooks";
const root = new URL("../dist/src/", import.meta.url);
const { getBackend, setBackend } = await import(new URL("engine/backends.js", root));
const { Tensor } = await import(new URL("engine/tensor.js", root));
const { Rng } = await import(new URL("engine/random.js", root));
const { buildModel } = await import(new URL("models/build.js", root));
const { taskLoss } = await import(new URL("train/losses.js", root));
const { SGD } = await import(new URL("train/optim/sgd.js", root));
const route = process.argv[2] ?? "ann";
const T = Number(process.argv[3] ?? (route === "ann" ? 1 : 4));
const be = getBackend();
const times = new Map();
const wrapped = { ...be };
for (const k of Object.keys(be)) {
  const f = be[k];
  if (typeof f !== "function") continue;
  wrapped[k] = (...a) => {
    const t0 = performance.now();
    const r = f.apply(be, a);
    const dt = performance.now() - t0;
    const e = times.get(k) ?? { ms: 0, n: 0 };
    e.ms += dt; e.n++;
    times.set(k, e);
    return r;
  };
}
Object.setPrototypeOf(wrapped, Object.getPrototypeOf(be));
setBackend(wrapped);
const B = 128;
const model = buildModel("vgg-small", route === "ann" ? { route, T: 1, L: 4, seed: 0 } : { route, T, neuron: "lif", tebn: true, seed: 0 });
model.train();
const opt = new SGD(model.namedParameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 });
const rng = new Rng(1);
const x = Tensor.randn([B, 1, 28, 28], rng);
const labels = Int32Array.from({ length: B }, () => rng.int(10));
const xt = new Float32Array(T * x.size);
for (let t = 0; t < T; t++) xt.set(x.data, t * x.size);
const input = new Tensor(xt, [T, B, 1, 28, 28]);
const { tidy } = await import(new URL("engine/memory.js", root));
const step = () => tidy(() => {
  const out = model.forward(input);
  const loss = taskLoss(out, labels, route === "ann" ? { type: "mean" } : { type: "tet", lambda: 1e-3, phi: 1 });
  opt.zeroGrad();
  loss.backward();
  opt.step();
});
for (let i = 0; i < 5; i++) step();
times.clear();
const R = 20;
const t0 = performance.now();
for (let i = 0; i < R; i++) step();
const total = (performance.now() - t0) / R;
let kern = 0;
const rows = [...times.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [k, e] of rows) { kern += e.ms / R; console.log(`${k.padEnd(26)} ${(e.ms / R).toFixed(2).padStart(8)} ms  ${(e.n / R).toFixed(0).padStart(4)} calls`); }
console.log(`kernels ${kern.toFixed(1)} ms, step ${total.toFixed(1)} ms, outside kernels ${(total - kern).toFixed(1)} ms`);
