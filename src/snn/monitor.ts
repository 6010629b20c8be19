/**
 * Spike and synaptic-operation (SOP) monitors, one per spiking layer (spec §11, recommended definitions):
 *   spikes(l, t, n) = Σ_i s_{l,i}(t)           (0/1 spikes, not θ-weighted)
 *   SOP(l, t, n)    = Σ_i s_{l,i}(t) · fanout(l, i)
 * fanout(l, i) is the exact number of synapses of the next conv/linear layer(s) reached by neuron i, border
 * effects included (computed from the layer geometry by fanout.ts), so SOP under a cutoff t* is simply the
 * sum of the per-step values up to t*.
 *
 * Rows are original sample indices within the current sequence: in single-step mode with samples leaving the
 * batch, a finished sample stops accruing counts, so the record holds exactly the work done. New samples can also
 * take finished samples' rows in a running sequence (anytime inference refills its batch): each sample's counts are
 * kept per step of its own, so step t of the record is the sample's t-th step whenever the batch computed it.
 */
import { getBackend } from "../engine/backends.js";
import { relayout, type Layout } from "../engine/tensor.js";

export interface LayerGeometry {
  /** Dotted module path of the spiking layer. */
  name: string;
  /** Neurons per sample (C·H·W or F). */
  neurons: number;
  /** Output shape per sample. */
  shape: number[];
  /** Synapses reached by each neuron's spike (length = neurons), or null when unknown. */
  fanout: Float32Array | null;
  /** Σ_i fanout(i): SOPs per sample per step if every neuron fired. */
  fanoutTotal: number;
}

/** Counts for one layer over all recorded sequences: [T, N] time-major. */
export interface LayerSpikeRecord extends LayerGeometry {
  T: number;
  N: number;
  spikes: Float32Array;
  sops: Float32Array;
}

/** What the cost accounting reads: per layer, per step, per sample. */
export interface SpikeRecord {
  T: number;
  N: number;
  layers: LayerSpikeRecord[];
  /** MACs per sample per step of the first layer on the analog input (not a spike-driven layer). */
  inputMacs: number;
  /** Σ over layers, [T, N]. */
  totalSpikes: Float32Array;
  totalSops: Float32Array;
}

interface Sequence {
  /** Per sample of the sequence, in the order it joined: its counts, one entry per step it ran. */
  spikes: number[][];
  sops: number[][];
  /** Current batch row → sample of this sequence. */
  rows: Int32Array;
}

function newSequence(B: number): Sequence {
  return { spikes: Array.from({ length: B }, () => []), sops: Array.from({ length: B }, () => []), rows: identity(B) };
}

export class SpikeMonitor {
  enabled = false;
  private seqs: Sequence[] = [];
  private current: Sequence | null = null;

  constructor(public geometry: LayerGeometry) {}

  /** Multi-step call: s01 is [T, B, neurons] for a complete new sequence, each sample's neurons in `layout`. */
  recordSequence(s01: Float32Array, T: number, B: number, layout: Layout = "plain"): void {
    if (!this.enabled) return;
    this.endSequence();
    this.current = newSequence(B);
    for (let t = 0; t < T; t++) this.addStep(s01.subarray(t * B * this.geometry.neurons, (t + 1) * B * this.geometry.neurons), B, layout);
    this.endSequence();
  }

  /** Single-step call: s01 is [B, neurons] for the next step of the current sequence. */
  recordStep(s01: Float32Array, B: number, layout: Layout = "plain"): void {
    if (!this.enabled) return;
    if (!this.current) this.current = newSequence(B);
    if (this.current.rows.length !== B) {
      throw new Error(`SpikeMonitor(${this.geometry.name}): batch of ${B} but ${this.current.rows.length} active samples; call selectSamples when samples leave`);
    }
    this.addStep(s01, B, layout);
  }

  selectSamples(rows: Int32Array): void {
    if (!this.current) return;
    const prev = this.current.rows;
    this.current.rows = Int32Array.from(rows, (r) => prev[r]!);
  }

  /** New samples take the places of the given batch rows (in increasing order): they start at their own step 0. */
  resetSamples(rows: Int32Array): void {
    if (!this.enabled || !this.current) return;
    const seq = this.current;
    for (const r of rows) {
      if (!(r >= 0 && r < seq.rows.length)) throw new RangeError(`SpikeMonitor(${this.geometry.name}): row ${r} is outside the batch of ${seq.rows.length}`);
      seq.rows[r] = seq.spikes.length;
      seq.spikes.push([]);
      seq.sops.push([]);
    }
  }

  /** Closes the current single-step sequence (resetState calls this). */
  endSequence(): void {
    if (this.current && this.current.spikes.some((s) => s.length > 0)) this.seqs.push(this.current);
    this.current = null;
  }

  clear(): void {
    this.seqs = [];
    this.current = null;
  }

  /** The fan-out per neuron in the order the spikes come in (a blocked16 layer's neurons are stored nChw16c). */
  private fanoutIn(layout: Layout): Float32Array | null {
    const fan = this.geometry.fanout;
    if (!fan || layout === "plain") return fan;
    if (!this.blockedFanout) {
      this.blockedFanout = new Float32Array(fan.length);
      relayout(fan, [1, ...this.geometry.shape], true, this.blockedFanout);
    }
    return this.blockedFanout;
  }
  private blockedFanout: Float32Array | null = null;

  private addStep(s01: Float32Array, B: number, layout: Layout): void {
    const seq = this.current!;
    const D = this.geometry.neurons;
    const fan = this.fanoutIn(layout);
    if (B === 0) return;
    // per-row sums on the backend, all rows in one call: counting in a JS loop cost as much as the inference it was
    // measuring, and a call per row as much as the batch norms
    const spikes = new Float64Array(B);
    const sops = fan ? new Float64Array(B) : null;
    getBackend().rowSums(s01.subarray(0, B * D), B, fan, spikes, sops);
    for (let b = 0; b < B; b++) {
      const r = seq.rows[b]!;
      seq.spikes[r]!.push(spikes[b]!);
      seq.sops[r]!.push(sops ? sops[b]! : 0);
    }
  }

  /** All recorded sequences concatenated over samples, padded with zeros to the longest sequence. */
  collect(): LayerSpikeRecord {
    this.endSequence();
    let T = 0;
    let N = 0;
    for (const s of this.seqs) {
      N += s.spikes.length;
      for (const c of s.spikes) T = Math.max(T, c.length);
    }
    const spikes = new Float32Array(T * N);
    const sops = new Float32Array(T * N);
    let n = 0;
    for (const s of this.seqs) {
      for (let i = 0; i < s.spikes.length; i++, n++) {
        const sp = s.spikes[i]!;
        const so = s.sops[i]!;
        for (let t = 0; t < sp.length; t++) {
          spikes[t * N + n] = sp[t]!;
          sops[t * N + n] = so[t]!;
        }
      }
    }
    return { ...this.geometry, T, N, spikes, sops };
  }
}

function identity(n: number): Int32Array {
  return Int32Array.from({ length: n }, (_, i) => i);
}

/** Joins the per-layer records of a model (all layers must have seen the same sequences). */
export function joinRecords(layers: LayerSpikeRecord[], inputMacs: number): SpikeRecord {
  const T = Math.max(0, ...layers.map((l) => l.T));
  const N = layers.length ? layers[0]!.N : 0;
  const totalSpikes = new Float32Array(T * N);
  const totalSops = new Float32Array(T * N);
  for (const l of layers) {
    if (l.N !== N) throw new Error(`spike record of ${l.name} covers ${l.N} samples, ${layers[0]!.name} covers ${N}`);
    for (let t = 0; t < l.T; t++) {
      for (let n = 0; n < N; n++) {
        totalSpikes[t * N + n]! += l.spikes[t * N + n]!;
        totalSops[t * N + n]! += l.sops[t * N + n]!;
      }
    }
  }
  return { T, N, layers, inputMacs, totalSpikes, totalSops };
}
