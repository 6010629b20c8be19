/**
 * Self-contained HTML rendering of a CutoffReport: inline CSS and inline SVG charts, no scripts, no external
 * assets (opens offline).
 */
import type { CutoffReport } from "./schema.js";
import { barChart, esc, lineChart, type Series } from "./svg.js";
import { big, energy, eps, num, pct, speed, POLICY_COLORS, POLICY_LABELS } from "./format.js";

const pctAxis = (v: number) => `${Math.round(v * 1000) / 10}%`;

function accuracyChart(r: CutoffReport): string {
  const T = r.input.T;
  const series: Series[] = [{
    name: "fixed timestep acc(t)", color: POLICY_COLORS.timestep,
    points: r.accuracy_per_timestep.map((a, i) => [i + 1, a]),
    titles: r.accuracy_per_timestep.map((a, i) => `t=${i + 1}: ${pct(a)}`),
  }];
  for (const p of r.policies) {
    if (p.policy === "timestep") continue;
    const x = p.results[p.operating_point] ?? p.results[0];
    series.push({
      name: `${p.policy} ε=${eps(x.epsilon)}`, color: POLICY_COLORS[p.policy] ?? "#333", line: false, shape: "square",
      points: [[x.mean_timestep, x.accuracy]], titles: [`${p.policy} ε=${eps(x.epsilon)}: ${pct(x.accuracy)} at mean t ${num(x.mean_timestep)}`],
    });
  }
  series.push({ name: "OCT (oracle)", color: POLICY_COLORS.oct, line: false, shape: "diamond", points: [[r.oct.mean_timestep, r.oct.accuracy]], titles: [`OCT: ${pct(r.oct.accuracy)} at mean t ${num(r.oct.mean_timestep)}`] });
  const ys = series.flatMap((s) => s.points.map((q) => q[1]));
  return lineChart({
    title: "Accuracy vs timestep, cutoff operating points marked", xLabel: "timestep t (mean stop time for cutoff points)", yLabel: "test accuracy",
    series, xDomain: [1, T], yDomain: [Math.max(0, Math.floor(Math.min(...ys) * 20) / 20), Math.min(1, Math.ceil(Math.max(...ys) * 20 + 0.001) / 20)], integerX: true, yFormat: pctAxis,
  });
}

function frontierChart(r: CutoffReport): string | null {
  const sweeps = r.policies.filter((p) => p.policy !== "timestep" && p.results.length > 0);
  if (sweeps.length === 0) return null;
  const series: Series[] = [{
    name: "fixed timestep", color: POLICY_COLORS.timestep, dashed: true, markers: false,
    points: r.accuracy_per_timestep.map((a, i) => [i + 1, a]),
  }];
  for (const p of sweeps) {
    // label only the fastest point (largest ε) of each series; every point has a hover title
    const fastest = p.frontier.reduce((b, f, i) => (f.mean_timestep < p.frontier[b].mean_timestep ? i : b), 0);
    series.push({
      name: POLICY_LABELS[p.policy] ?? p.policy, color: POLICY_COLORS[p.policy] ?? "#333",
      points: p.frontier.map((f) => [f.mean_timestep, f.accuracy]),
      labels: p.frontier.map((f, i) => (i === fastest ? `ε=${eps(f.epsilon)}` : "")),
      titles: p.frontier.map((f) => `${p.policy} ε=${eps(f.epsilon)}: ${pct(f.accuracy)}, mean t ${num(f.mean_timestep)}${f.pareto ? " (Pareto)" : ""}`),
    });
  }
  const ys = series.flatMap((s) => s.points.map((q) => q[1]));
  return lineChart({
    title: "ε frontier: accuracy vs mean timestep", xLabel: "mean timestep", yLabel: "test accuracy",
    series, xDomain: [1, r.input.T], yDomain: [Math.max(0, Math.floor(Math.min(...ys) * 20) / 20), Math.min(1, Math.ceil(Math.max(...ys) * 20 + 0.001) / 20)], yFormat: pctAxis,
  });
}

function histogramChart(r: CutoffReport): string {
  const T = r.input.T;
  const groups = r.policies.filter((p) => p.policy !== "timestep").map((p) => ({
    name: `${p.policy} ε=${eps((p.results[p.operating_point] ?? p.results[0]).epsilon)}`, color: POLICY_COLORS[p.policy] ?? "#333",
    values: (p.results[p.operating_point] ?? p.results[0]).stop_histogram.map((c) => c / r.input.n_test),
  }));
  groups.push({ name: "OCT", color: POLICY_COLORS.oct, values: r.oct.stop_histogram.map((c) => c / r.input.n_test) });
  return barChart({
    title: "Distribution of stop times", xLabel: "stop timestep", yLabel: "fraction of test samples",
    categories: Array.from({ length: T }, (_, i) => String(i + 1)), groups, yFormat: pctAxis,
  });
}

function firingChart(r: CutoffReport): string | null {
  if (!r.cost) return null;
  const ls = r.cost.report.layers.filter((l) => l.neurons > 0);
  if (ls.length === 0) return null;
  return barChart({
    title: "Firing rate per layer (spikes per neuron per timestep)", xLabel: "layer", yLabel: "firing rate",
    categories: ls.map((l) => l.name),
    groups: [
      { name: "full run (T steps)", color: "#9bb8d3", values: ls.map((l) => l.firing_rate.full) },
      { name: `under cutoff (${r.cost.operating_point.policy} ε=${eps(r.cost.operating_point.epsilon)})`, color: POLICY_COLORS.topk, values: ls.map((l) => l.firing_rate.cutoff) },
    ],
  });
}

function table(head: string[], rows: string[][]): string {
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join("")}</tr></thead><tbody>${rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join("")}</tr>`).join("")}</tbody></table>`;
}

const CSS = `
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#222;background:#f6f7f9}
main{max-width:1160px;margin:0 auto;padding:20px 24px 40px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 10px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#666;font-size:12px;margin-bottom:14px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:10px}
.card{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:10px 12px}
.card .k{font-size:11px;color:#666;text-transform:uppercase;letter-spacing:.04em}.card .v{font-size:20px;font-weight:600;margin-top:2px}
.card .s{font-size:11px;color:#666}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:12px}
.chart{background:#fff;border:1px solid #e1e4e8;border-radius:6px;padding:6px}
.chart svg{width:100%;height:auto;display:block}
table{border-collapse:collapse;background:#fff;font-size:12.5px;margin:6px 0 10px;width:100%}
th,td{border:1px solid #e1e4e8;padding:4px 8px;text-align:right}th{background:#f0f2f5}td:first-child,th:first-child{text-align:left}
.note{font-size:12px;color:#555}.assume{background:#fff8e1;border:1px solid #f0d68a;padding:6px 10px;border-radius:4px;font-size:12px}
code{background:#eef0f3;padding:0 3px;border-radius:3px}
`;

export function renderHtml(r: CutoffReport): string {
  const T = r.input.T;
  const cards: string[] = [];
  const card = (k: string, v: string, s = "") => cards.push(`<div class="card"><div class="k">${esc(k)}</div><div class="v">${esc(v)}</div><div class="s">${esc(s)}</div></div>`);
  card(`accuracy at T=${T}`, pct(r.accuracy_per_timestep[T - 1]), "no cutoff");
  card("OCT (oracle)", num(r.oct.mean_timestep, 2), `mean timestep, ${speed(T / r.oct.mean_timestep)} vs T`);
  for (const p of r.policies) {
    if (p.policy === "timestep") continue;
    const x = p.results[p.operating_point] ?? p.results[0];
    card(`${p.policy} ε=${eps(x.epsilon)}`, `${pct(x.accuracy)}`, `mean t ${num(x.mean_timestep, 2)}, ${speed(x.speedup.vs_max_timestep)} vs T, ${speed(x.speedup.vs_equal_accuracy)} vs equal-acc. t`);
  }
  const charts = [accuracyChart(r), frontierChart(r), histogramChart(r), firingChart(r)].filter((c): c is string => c !== null);
  const sections: string[] = [];
  sections.push(`<h2>Accuracy per timestep (no cutoff)</h2>` + table(["t", ...r.accuracy_per_timestep.map((_, i) => String(i + 1))], [["acc(t)", ...r.accuracy_per_timestep.map(pct)]]));
  for (const p of r.policies) {
    const opts = Object.entries(p.options).map(([k, v]) => `${k}=${String(v)}`).join(", ");
    const hasCost = p.results.some((x) => x.cost);
    const rows = p.results.map((x) => [eps(x.epsilon), pct(x.accuracy), num(x.mean_timestep), speed(x.speedup.vs_max_timestep), String(x.speedup.equal_accuracy_timestep ?? "never"), speed(x.speedup.vs_equal_accuracy), ...(hasCost ? [x.cost ? big(x.cost.sops_per_sample) : "", x.cost ? `${energy(x.cost.energy_pj_per_sample)}` : ""] : [])]);
    let extra = "";
    const st = (p.results[p.operating_point] ?? p.results[0])?.state as unknown as Record<string, unknown>;
    if (st && Array.isArray(st.beta)) extra += `<p class="note">β(t) at ε=${esc(eps((p.results[p.operating_point] ?? p.results[0]).epsilon))}: ${(st.beta as number[]).map((b) => num(b, 4)).join(", ")}</p>`;
    if (st && Array.isArray(st.thresholds)) extra += `<p class="note">s_th(t) at ε=${esc(eps((p.results[p.operating_point] ?? p.results[0]).epsilon))}: ${(st.thresholds as (number | null)[]).map((b) => (b === null ? "∞" : num(b, 4))).join(", ")}</p>`;
    sections.push(`<h2>${esc(POLICY_LABELS[p.policy] ?? p.policy)} <code>${esc(p.policy)}</code>${opts ? ` <span class="note">${esc(opts)}</span>` : ""}</h2>` +
      table(["ε", "accuracy", "mean timestep", "speed-up T/avg", "fixed t, equal acc.", "speed-up equal acc.", ...(hasCost ? ["SOPs/sample", "energy/sample"] : [])], rows) + extra);
  }
  if (r.cost) {
    const c = r.cost.report;
    const rows = c.layers.map((l) => [l.name, String(l.neurons), String(l.fan_out), `${big(l.spikes_per_sample.full)} → ${big(l.spikes_per_sample.cutoff)}`, `${num(l.firing_rate.full, 4)} → ${num(l.firing_rate.cutoff, 4)}`, `${big(l.sops_per_sample.full)} → ${big(l.sops_per_sample.cutoff)}`, `${big(l.macs_per_sample.full)} → ${big(l.macs_per_sample.cutoff)}`]);
    const t = c.totals;
    rows.push(["total", "", "", `${big(t.spikes_per_sample.full)} → ${big(t.spikes_per_sample.cutoff)}`, "", `${big(t.sops_per_sample.full)} → ${big(t.sops_per_sample.cutoff)}`, `${big(t.macs_per_sample.full)} → ${big(t.macs_per_sample.cutoff)}`]);
    sections.push(`<h2>Cost accounting</h2><p class="note">${esc(r.cost.note)} Operating point: ${esc(r.cost.operating_point.policy)}, ε=${esc(eps(r.cost.operating_point.epsilon))}.</p>` +
      table(["layer", "neurons", "fan-out", "spikes/sample (full → cutoff)", "firing rate", "SOPs/sample", "MACs/sample"], rows) +
      `<p>Energy per sample: <b>${esc(energy(t.energy_pj_per_sample.full))}</b> full → <b>${esc(energy(t.energy_pj_per_sample.cutoff))}</b> under cutoff.</p><p class="assume"><b>Assumption:</b> ${esc(c.assumption)}</p>`);
  }
  sections.push(`<h2>Notes</h2><ul class="note">${r.notes.map((n) => `<li>${esc(n)}</li>`).join("")}</ul>`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(r.title)}</title><style>${CSS}</style></head>
<body><main>
<h1>${esc(r.title)}</h1>
<div class="meta">${esc(r.generator)} · ${esc(r.created)} · schema ${esc(r.schema)} v${esc(r.schema_version)} · outputs <code>${esc(r.input.source)}</code> (${esc(r.input.accumulation)}) · ${r.input.n_test} test / ${r.input.n_calibration} calibration samples · T=${T} · K=${r.input.K}</div>
<div class="cards">${cards.join("")}</div>
<h2>Charts</h2>
<div class="charts">${charts.map((c) => `<div class="chart">${c}</div>`).join("")}</div>
${sections.join("\n")}
</main></body></html>
`;
}
