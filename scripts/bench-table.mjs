// Renders the JSON lines of `npm run bench` as the README's Markdown table.
// usage: npm run bench > bench.jsonl; node scripts/bench-table.mjs bench.jsonl
import { readFileSync } from "node:fs";

const lines = readFileSync(process.argv[2], "utf8").split("\n").filter((l) => l.startsWith("{"));
const objs = lines.map((l) => JSON.parse(l));
const head = objs.find((o) => !("case" in o) && !("peak_rss_mb" in o));
const rss = objs.find((o) => "peak_rss_mb" in o);
const fmt = (v, d = 2) => (v === null || v === undefined ? "–" : typeof v === "number" ? v.toFixed(d) : String(v));
if (head) console.log("```\n" + JSON.stringify(head) + "\n```\n");
console.log("| case | ours ms | PyTorch ms | ratio | GFLOP/s | % of peak | GB/s | % of bandwidth | notes |");
console.log("|---|---|---|---|---|---|---|---|---|");
for (const o of objs.filter((x) => "case" in x)) {
  const notes = [];
  if (o.level === "kernel") notes.push("kernel level");
  if (o.wall_clock_speedup !== undefined) notes.push(`anytime ${fmt(o.anytime_ms_setup, 0)} ms vs all-T ${fmt(o.all_T_ms, 0)} ms: ${fmt(o.wall_clock_speedup)}× wall-clock, T/mean t ${fmt(o.timestep_speedup)}×, acc ${fmt(100 * o.accuracy_cutoff, 1)} % vs ${fmt(100 * o.accuracy_all_T, 1)} %`);
  if (o.images !== undefined) notes.push(`${Math.round(o.images / (o.ours_ms / 1000))} images/s`);
  if (o.events !== undefined) notes.push(`${(o.events / (o.ours_ms / 1000) / 1e6).toFixed(1)} M events/s`);
  if (o.target_ms !== undefined) notes.push(`target < ${o.target_ms} ms`);
  console.log(`| ${o.case} | ${fmt(o.ours_ms)} | ${fmt(o.torch_ms)} | ${fmt(o.ratio)} | ${fmt(o.gflops, 1)} | ${fmt(o.peak_pct, 1)} | ${fmt(o.gbps, 1)} | ${fmt(o.bandwidth_pct, 1)} | ${notes.join("; ")} |`);
}
if (rss) console.log(`\nPeak RSS of the bench process: ${rss.peak_rss_mb} MB.`);
