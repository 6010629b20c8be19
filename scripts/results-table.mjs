// Prints the README's results tables (Markdown) from the eval.json / train.json files the experiment scripts write.
// usage: node scripts/results-table.mjs runs/fmnist-qcfs-s1200 runs/fmnist-qcfs-rcs-s1200 ...
import { existsSync, readFileSync } from "node:fs";

const pct = (a) => (100 * a).toFixed(2);
const rows = [];
for (const dir of process.argv.slice(2)) {
  const evalPath = `${dir}/eval.json`;
  if (!existsSync(evalPath)) {
    console.error(`skip ${dir}: no eval.json`);
    continue;
  }
  const ev = JSON.parse(readFileSync(evalPath, "utf8"));
  const trainPath = existsSync(`${dir}.train.json`) ? `${dir}.train.json` : `${dir}/train.json`;
  const tr = existsSync(trainPath) ? JSON.parse(readFileSync(trainPath, "utf8")) : null;
  const topk = ev.policies.find((p) => p.policy === "topk");
  const at = (eps) => topk?.results.find((r) => r.epsilon === eps);
  rows.push({ dir, ann: tr?.last_accuracy ?? null, acc: ev.accuracy_per_timestep, oct: ev.oct, topk: [0, 0.01, 0.05].map(at), cost: ev.cost });
}
if (rows.length === 0) process.exit(0);
const T = rows[0].acc.length;
console.log(`| run | ANN | ${Array.from({ length: T }, (_, i) => `t=${i + 1}`).join(" | ")} | OCT acc / mean t | Top-K ε=0 | ε=0.01 | ε=0.05 |`);
console.log(`|---|---|${"---|".repeat(T)}---|---|---|---|`);
for (const r of rows) {
  const tk = r.topk.map((x) => (x ? `${pct(x.accuracy)} / ${x.mean_timestep.toFixed(2)}` : "-"));
  console.log(`| ${r.dir} | ${r.ann === null ? "-" : pct(r.ann)} | ${r.acc.map(pct).join(" | ")} | ${pct(r.oct.accuracy)} / ${r.oct.mean_timestep.toFixed(2)} | ${tk.join(" | ")} |`);
}

// Spread over seeds: runs whose folder names differ only in the -sSEED suffix are summarised as mean (min–max).
const groups = new Map();
for (const r of rows) {
  const key = r.dir.replace(/-s\d+$/, "");
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
const spread = (xs) => {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  return `${m.toFixed(2)} (${Math.min(...xs).toFixed(2)}–${Math.max(...xs).toFixed(2)})`;
};
const multi = [...groups].filter(([, rs]) => rs.length > 1);
if (multi.length) {
  console.log("");
  console.log("| config | seeds | ANN | SNN t=4 | SNN t=T | OCT mean t | Top-K ε=0.01 acc | Top-K ε=0.01 mean t | Top-K ε=0.05 acc | Top-K ε=0.05 mean t |");
  console.log("|---|---|---|---|---|---|---|---|---|---|");
  for (const [key, rs] of multi) {
    const f = (get) => spread(rs.map(get));
    console.log(
      `| ${key} | ${rs.length} | ${rs.every((r) => r.ann !== null) ? f((r) => 100 * r.ann) : "-"} | ${f((r) => 100 * r.acc[Math.min(3, T - 1)])} | ${f((r) => 100 * r.acc[T - 1])} | ` +
        `${f((r) => r.oct.mean_timestep)} | ${f((r) => 100 * r.topk[1].accuracy)} | ${f((r) => r.topk[1].mean_timestep)} | ${f((r) => 100 * r.topk[2].accuracy)} | ${f((r) => r.topk[2].mean_timestep)} |`,
    );
  }
}
