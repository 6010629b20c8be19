/**
 * Cost accounting under cutoff: spikes, firing rates, SOPs, first-layer MACs and an energy estimate,
 * each summed only up to every sample's stop time (see cost-types.ts for the definitions).
 */
import { CutoffArgumentError, CutoffInputError, describeValue } from "./errors.js";
import { DEFAULT_ENERGY, type CostInput, type CostReport, type CountArray, type EnergyModel, type LayerCost } from "./cost-types.js";

interface Flat { data: Float64Array; T: number; N: number; L: number }

function flatten(a: CountArray, field: string, source: string): Flat {
  if (!Array.isArray(a)) {
    if (!a || typeof a !== "object" || !("data" in a) || !("shape" in a)) throw new CutoffInputError(source, field, "a [T][N][L] array or {data, shape}", describeValue(a));
    const [T, N, L] = a.shape;
    if (a.data.length !== T * N * L) throw new CutoffInputError(source, field, `${T * N * L} values for shape [${T}, ${N}, ${L}]`, `${a.data.length}`);
    const data = Float64Array.from(a.data);
    for (let i = 0; i < data.length; i++) if (!(Number.isFinite(data[i]) && data[i] >= 0)) throw new CutoffInputError(source, `${field}.data[${i}]`, "a finite count >= 0", String(data[i]));
    return { data, T, N, L };
  }
  const T = a.length;
  const N = Array.isArray(a[0]) ? a[0].length : 0;
  const L = N > 0 && Array.isArray(a[0][0]) ? a[0][0].length : 0;
  if (T === 0 || N === 0 || L === 0) throw new CutoffInputError(source, field, "a non-empty [T][N][L] array of counts", describeValue(a));
  const data = new Float64Array(T * N * L);
  for (let t = 0; t < T; t++) {
    if (!Array.isArray(a[t]) || a[t].length !== N) throw new CutoffInputError(source, `${field}[${t}]`, `${N} samples`, describeValue(a[t]));
    for (let n = 0; n < N; n++) {
      const r = a[t][n];
      if (!Array.isArray(r) || r.length !== L) throw new CutoffInputError(source, `${field}[${t}][${n}]`, `${L} layer counts`, describeValue(r));
      for (let l = 0; l < L; l++) {
        const v = r[l];
        if (!(typeof v === "number" && Number.isFinite(v) && v >= 0)) throw new CutoffInputError(source, `${field}[${t}][${n}][${l}]`, "a finite count >= 0", String(v));
        data[(t * N + n) * L + l] = v;
      }
    }
  }
  return { data, T, N, L };
}

/** Validate a cost input (e.g. parsed from JSON); throws CutoffInputError naming `source`. */
export function validateCostInput(input: unknown, source = "<cost>"): CostInput {
  if (!input || typeof input !== "object") throw new CutoffInputError(source, "(top level)", "an object {layers, spikes}", describeValue(input));
  const o = input as Record<string, unknown>;
  if (!Array.isArray(o.layers) || o.layers.length === 0) throw new CutoffInputError(source, "layers", "a non-empty array of {name, neurons, fanOut, macsFirstLayer?}", describeValue(o.layers));
  o.layers.forEach((l: unknown, i: number) => {
    const x = l as Record<string, unknown>;
    if (!x || typeof x !== "object") throw new CutoffInputError(source, `layers[${i}]`, "an object", describeValue(l));
    if (typeof x.name !== "string") throw new CutoffInputError(source, `layers[${i}].name`, "a string", describeValue(x.name));
    for (const k of ["neurons", "fanOut"]) if (!(typeof x[k] === "number" && Number.isFinite(x[k]) && (x[k] as number) >= 0)) throw new CutoffInputError(source, `layers[${i}].${k}`, "a number >= 0", describeValue(x[k]));
    if (x.macsFirstLayer !== undefined && !(typeof x.macsFirstLayer === "number" && Number.isFinite(x.macsFirstLayer) && x.macsFirstLayer >= 0)) throw new CutoffInputError(source, `layers[${i}].macsFirstLayer`, "a number >= 0", describeValue(x.macsFirstLayer));
  });
  if (o.spikes === undefined) throw new CutoffInputError(source, "spikes", "a [T][N][L] array of spike counts", "nothing");
  return o as unknown as CostInput;
}

/**
 * Account costs for 1-based per-sample stop times `stops` (null: everyone runs to T).
 * `source` names the input in error messages.
 */
export function costAccounting(input: CostInput, stops: ArrayLike<number> | null, energy: EnergyModel = DEFAULT_ENERGY, source = "<cost>"): CostReport {
  const sp = flatten(input.spikes, "spikes", source);
  const { T, N, L } = sp;
  if (input.layers.length !== L) throw new CutoffInputError(source, "layers", `${L} layer descriptions (one per spike-count column)`, `${input.layers.length}`);
  let sops: Flat | null = null;
  if (input.sops !== undefined) {
    sops = flatten(input.sops, "sops", source);
    if (sops.T !== T || sops.N !== N || sops.L !== L) throw new CutoffInputError(source, "sops", `shape [${T}, ${N}, ${L}] like spikes`, `[${sops.T}, ${sops.N}, ${sops.L}]`);
  }
  if (stops && stops.length !== N) throw new CutoffArgumentError(`cost accounting: ${stops.length} stop times for ${N} samples in ${source}`);
  if (!(energy.pjPerAC >= 0 && energy.pjPerMAC >= 0)) throw new CutoffArgumentError("energy model: pJ per AC and per MAC must be >= 0");
  const spikesFull = new Float64Array(L), spikesCut = new Float64Array(L);
  const sopsFull = new Float64Array(L), sopsCut = new Float64Array(L);
  const perT = Array.from({ length: L }, () => new Float64Array(T));
  const perTCut = Array.from({ length: L }, () => new Float64Array(T));
  let stepsCut = 0;
  for (let n = 0; n < N; n++) {
    const ts = stops ? stops[n] : T;
    if (!(Number.isInteger(ts) && ts >= 1 && ts <= T)) throw new CutoffArgumentError(`cost accounting: stop time ${ts} of sample ${n} outside [1, ${T}]`);
    stepsCut += ts;
    for (let t = 0; t < T; t++) {
      const o = (t * N + n) * L;
      for (let l = 0; l < L; l++) {
        const s = sp.data[o + l];
        const op = sops ? sops.data[o + l] : s * input.layers[l].fanOut;
        spikesFull[l] += s; sopsFull[l] += op; perT[l][t] += s;
        if (t < ts) { spikesCut[l] += s; sopsCut[l] += op; perTCut[l][t] += s; }
      }
    }
  }
  const meanCut = stepsCut / N;
  const layers: LayerCost[] = input.layers.map((d, l) => {
    const macs = d.macsFirstLayer ?? 0;
    return {
      name: d.name,
      neurons: d.neurons,
      fan_out: d.fanOut,
      spikes_per_sample: { full: spikesFull[l] / N, cutoff: spikesCut[l] / N },
      firing_rate: {
        full: d.neurons > 0 ? spikesFull[l] / (d.neurons * N * T) : 0,
        cutoff: d.neurons > 0 ? spikesCut[l] / (d.neurons * stepsCut) : 0,
      },
      sops_per_sample: { full: sopsFull[l] / N, cutoff: sopsCut[l] / N },
      macs_per_sample: { full: macs * T, cutoff: macs * meanCut },
      spikes_per_timestep: Array.from(perT[l], (v) => v / N),
      // divided by all N, not by the samples still running, so the vector sums to spikes_per_sample.cutoff
      spikes_per_timestep_cutoff: Array.from(perTCut[l], (v) => v / N),
    };
  });
  const sum = (f: (x: LayerCost) => { full: number; cutoff: number }) => ({
    full: layers.reduce((a, x) => a + f(x).full, 0),
    cutoff: layers.reduce((a, x) => a + f(x).cutoff, 0),
  });
  const spikes = sum((x) => x.spikes_per_sample), sopsT = sum((x) => x.sops_per_sample), macsT = sum((x) => x.macs_per_sample);
  return {
    T, N,
    assumption: `Energy is an estimate, not a measurement: ${energy.pjPerMAC} pJ per MAC and ${energy.pjPerAC} pJ per accumulate (SOP), the 45 nm CMOS figures commonly used in the SNN literature; memory access and data movement are not counted.`,
    energy_model: { ...energy },
    layers,
    totals: {
      spikes_per_sample: spikes,
      sops_per_sample: sopsT,
      macs_per_sample: macsT,
      energy_pj_per_sample: {
        full: macsT.full * energy.pjPerMAC + sopsT.full * energy.pjPerAC,
        cutoff: macsT.cutoff * energy.pjPerMAC + sopsT.cutoff * energy.pjPerAC,
      },
      mean_timestep: { full: T, cutoff: meanCut },
    },
  };
}
