// Renders the JSON lines of `npm run bench` as the README's Markdown table.
// usage: npm run bench > bench.jsonl; node scripts/bench-table.mjs bench.jsonl [more runs.jsonl ...]
// (further files add one "ratio, run k" column each, so the table shows how far ratios move between runs)
import { readFileSync } from "node:fs";

const read = (f) => readFileSync(f, "utf8").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
const objs = read(process.argv[2]);
const others = process.argv.slice(3).map((f) => new Map(read(f).filter((o) => "case" in o).map((o) => [o.case, o])));
const head = objs.find((o) => !("case" in o) && !("peak_rss_mb" in o));
const rss = objs.find((o) => "peak_rss_mb" in o);
const fmt = (v, d = 2) => (v === null || v === undefined ? "–" : typeof v === "number" ? v.toFixed(d) : String(v));
if (head) console.log("```\n" + JSON.stringify(head) + "\n```\n");
const label = (f, i) => f.match(/run\d+/)?.[0] ?? `file ${i + 2}`;
const extra = process.argv.slice(3).map((f, i) => ` ratio (paired), ${label(f, i)} |`).join("");
// paired = median of the per-round ratios (each round times both sides under the same load); files from before the
// bench printed ratio_paired get it from ratio_by_round
const paired = (o) => {
  if (o?.ratio_paired !== undefined) return o.ratio_paired;
  if (!o || !Array.isArray(o.ratio_by_round)) return o?.ratio;
  const s = [...o.ratio_by_round].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const both = (o) => (o?.ratio === null || o?.ratio === undefined ? "–" : `${fmt(o.ratio)} (${fmt(paired(o))})`);
console.log(`| case | ours ms | PyTorch ms | ratio (paired) |${extra} GFLOP/s | % of peak | GB/s | % of bandwidth | notes |`);
console.log(`|---|---|---|---|${others.map(() => "---|").join("")}---|---|---|---|---|`);
for (const o of objs.filter((x) => "case" in x)) {
  const notes = [];
  if (o.level === "kernel") notes.push("kernel level");
  if (o.layout !== undefined) {
    const name = (l) => (l === "blocked16" ? "blocked16" : "NCHW");
    const ours = `x ${name(o.layout)}, y ${name(o.output_layout ?? o.layout)}`;
    notes.push(`ours ${ours}; PyTorch ${o.torch_layout ?? "NCHW"}${o.torch_ms_by_layout ? ` (NCHW ${fmt(o.torch_ms_by_layout.nchw)}, channels_last ${fmt(o.torch_ms_by_layout.channels_last)} ms)` : ""}`);
  }
  if (o.wall_clock_speedup !== undefined) notes.push(`anytime ${fmt(o.anytime_ms_setup, 0)} ms vs all-T ${fmt(o.all_T_ms, 0)} ms: ${fmt(o.wall_clock_speedup)}× wall-clock, T/mean t ${fmt(o.timestep_speedup)}×, acc ${fmt(100 * o.accuracy_cutoff, 1)} % vs ${fmt(100 * o.accuracy_all_T, 1)} %${o.anytime_no_refill_ms !== undefined ? `; without refill ${fmt(o.anytime_no_refill_ms, 0)} ms` : ""}`);
  if (o.images !== undefined) notes.push(`${Math.round(o.images / (o.ours_ms / 1000))} images/s`);
  if (o.events !== undefined) notes.push(`${(o.events / (o.ours_ms / 1000) / 1e6).toFixed(1)} M events/s`);
  if (o.target_ms !== undefined) notes.push(`target < ${o.target_ms} ms`);
  if (o.algorithm !== undefined) notes.push(`kernels: ${o.algorithm}`);
  if (o.steal_pct !== undefined && o.steal_pct !== null) notes.push(`steal ${fmt(o.steal_pct, 0)} %`);
  if (o.rss_mb !== undefined) notes.push(`RSS ${o.rss_mb} MB`);
  const more = others.map((m) => ` ${both(m.get(o.case))} |`).join("");
  console.log(`| ${o.case} | ${fmt(o.ours_ms)} | ${fmt(o.torch_ms)} | ${both(o)} |${more} ${fmt(o.gflops, 1)} | ${fmt(o.peak_pct, 1)} | ${fmt(o.gbps, 1)} | ${fmt(o.bandwidth_pct, 1)} | ${notes.join("; ")} |`);
}
if (rss) console.log(`\nPeak RSS of the bench process: ${rss.peak_rss_mb} MB.`);
