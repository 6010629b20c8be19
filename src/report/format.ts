/** Number formatting shared by the Markdown and HTML renderers. */
export const pct = (v: number): string => `${(100 * v).toFixed(2)} %`;
export const num = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : String(v));
export const speed = (v: number | null): string => (v === null ? "n/a" : `${v.toFixed(2)}×`);
export const eps = (v: number | null): string => (v === null ? "–" : String(v));
export const big = (v: number): string => {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 1e9) return `${(v / 1e9).toFixed(2)} G`;
  if (a >= 1e6) return `${(v / 1e6).toFixed(2)} M`;
  if (a >= 1e3) return `${(v / 1e3).toFixed(2)} k`;
  return v.toFixed(a >= 10 ? 1 : 3);
};
export const POLICY_COLORS: Record<string, string> = {
  topk: "#1f6fb4",
  confidence: "#e07b00",
  conformal: "#2a9d4b",
  timestep: "#7a7a7a",
  oct: "#c0392b",
};
export const POLICY_LABELS: Record<string, string> = {
  topk: "Top-K gap",
  confidence: "softmax confidence",
  conformal: "conformal (SpikeCP)",
  timestep: "fixed timestep",
};
/** Energy given in pJ, printed with an SI prefix (pJ, nJ, µJ, mJ, J). */
export const energy = (pj: number): string => {
  const units: [number, string][] = [[1e12, "J"], [1e9, "mJ"], [1e6, "µJ"], [1e3, "nJ"], [1, "pJ"]];
  for (const [f, u] of units) if (Math.abs(pj) >= f) return `${(pj / f).toFixed(2)} ${u}`;
  return `${pj.toFixed(3)} pJ`;
};
