// Per-kernel time of one step of a bench case (wraps every backend method with a timer). Usage:
//   node scripts/profile-step.mjs [ann|snn|infer]   (bench cases train_ann_vgg_small, train_snn_vgg_small_T4, infer_snn_vgg_small_T8)
import { performance } from "node:perf_hooks";
const root = new URL("../dist/src/", import.meta.url);
const { getBackend, setBackend } = await import(new URL("engine/backends.js", root));
const route = process.argv[2] ?? "ann";
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
// the training step of the bench case (same model, batch, loss and optimiser), with the wrapped backend active
const { cases } = await import(new URL(route === "infer" ? "../dist/bench/cases/infer.js" : "../dist/bench/cases/train.js", import.meta.url));
const name = route === "infer" ? "infer_snn_vgg_small_T8" : route === "ann" ? "train_ann_vgg_small" : "train_snn_vgg_small_T4";
if (!["ann", "snn", "infer"].includes(route)) throw new Error(`usage: profile-step.mjs ann|snn|infer, got ${route}`);
const step = cases.find((c) => c.name === name).setup().run;
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
