/**
 * SpikingModel: a built network plus its time handling, step mode, RCS collector and spike monitors.
 *   forward(x [T,B,C,H,W] | [B,C,H,W]) → per-step outputs O [T,B,K] (not accumulated; a static [B,C,H,W]
 *     input is repeated over the model's T, the ANN route has T = 1)
 *   step(xt [B,C,H,W]) → O_t [B,K] in single-step mode, state kept until resetState()
 */
import { Tensor } from "../engine/tensor.js";
import { ShapeError, fmtShape } from "../engine/errors.js";
import { repeatTime, stack } from "../engine/index.js";
import { Module } from "../nn/module.js";
import type { Sequential } from "../nn/sequential.js";
import { TemporalModule, foldTime, unfoldTime, type StepMode } from "../snn/temporal.js";
import { BaseNeuron } from "../snn/neuron.js";
import { QCFS, ClipReLU } from "../snn/qcfs.js";
import { RcsCollector } from "../snn/rcs.js";
import { SpikeMonitor, joinRecords, type SpikeRecord } from "../snn/monitor.js";
import type { ModelSpec } from "./spec.js";
import type { CostInput } from "../cutoff/cost-types.js";
import type { ActivationSite, ResolvedBuildOptions } from "./build.js";

/** The spike monitors of every spiking layer, in forward order. */
export class ModelMonitors {
  constructor(readonly layers: SpikeMonitor[], readonly inputMacs: number) {}
  get enabled(): boolean {
    return this.layers.some((m) => m.enabled);
  }
  enable(on = true): void {
    for (const m of this.layers) m.enabled = on;
  }
  disable(): void {
    this.enable(false);
  }
  clear(): void {
    for (const m of this.layers) m.clear();
  }
  /** Everything recorded since the last clear, [T, N] per layer (samples in the order they were run). */
  collect(): SpikeRecord {
    return joinRecords(this.layers.map((m) => m.collect()), this.inputMacs);
  }

  /**
   * The recorded counts in the cutoff layer's cost-accounting format (src/cutoff/cost-types.ts): layer 0 is
   * the analog input layer (MACs per step, no spikes), then every spiking layer with its mean fan-out; the
   * exact per-(t, n, l) SOPs (per-neuron fan-outs, borders included) are passed as `sops`.
   */
  toCostInput(record: SpikeRecord = this.collect()): CostInput {
    const { T, N } = record;
    const L = record.layers.length + 1;
    const spikes = new Float64Array(T * N * L);
    const sops = new Float64Array(T * N * L);
    record.layers.forEach((l, j) => {
      for (let t = 0; t < l.T; t++) {
        for (let n = 0; n < N; n++) {
          spikes[(t * N + n) * L + j + 1] = l.spikes[t * N + n]!;
          sops[(t * N + n) * L + j + 1] = l.sops[t * N + n]!;
        }
      }
    });
    return {
      layers: [
        { name: "input", neurons: 0, fanOut: 0, macsFirstLayer: record.inputMacs },
        ...record.layers.map((l) => ({ name: l.name, neurons: l.neurons, fanOut: l.neurons ? l.fanoutTotal / l.neurons : 0 })),
      ],
      spikes: { data: spikes, shape: [T, N, L] },
      sops: { data: sops, shape: [T, N, L] },
    };
  }
}

export class SpikingModel extends Module {
  readonly net: Sequential;
  readonly rcs = new RcsCollector();
  readonly monitors: ModelMonitors;
  private readonly sites: ActivationSite[];
  private readonly temporal: TemporalModule[];
  private mode: StepMode = "multi";

  constructor(net: Sequential, readonly spec: ModelSpec, readonly options: ResolvedBuildOptions, sites: ActivationSite[], inputMacs: number) {
    super();
    this.net = this.registerModule("net", net);
    this.sites = sites;
    this.temporal = [];
    const monitors: SpikeMonitor[] = [];
    for (const s of sites) {
      const m = s.module;
      if (m instanceof BaseNeuron || m instanceof QCFS || m instanceof ClipReLU) {
        m.rcs = this.rcs;
        m.layerName = s.geometry.name;
      }
      if (m instanceof BaseNeuron) {
        m.monitor = new SpikeMonitor(s.geometry);
        monitors.push(m.monitor);
      }
    }
    this.monitors = new ModelMonitors(monitors, inputMacs);
    this.refreshTemporal();
  }

  private refreshTemporal(): void {
    this.temporal.length = 0;
    for (const m of this.modules()) if (m instanceof TemporalModule) this.temporal.push(m);
  }

  get route(): "ann" | "snn" {
    return this.options.route;
  }
  /** Default number of timesteps (static inputs are repeated this many times). */
  get T(): number {
    return this.options.T;
  }
  get stepMode(): StepMode {
    return this.mode;
  }
  get numClasses(): number {
    return this.options.numClasses;
  }

  /** Activation layers (QCFS / ClipReLU / ReLU / IF / LIF) in forward order, as the RCS hooks see them. */
  activationLayers(): Module[] {
    return this.sites.map((s) => s.module);
  }
  /** The spiking layers (empty for an ANN). */
  neurons(): BaseNeuron[] {
    return this.sites.map((s) => s.module).filter((m): m is BaseNeuron => m instanceof BaseNeuron);
  }
  /** Per-layer geometry (neurons, exact fan-out) of every activation site. */
  layerGeometry(): ActivationSite["geometry"][] {
    return this.sites.map((s) => s.geometry);
  }

  setStepMode(mode: StepMode): this {
    if (mode !== "multi" && mode !== "single") throw new Error(`setStepMode: expected "multi" or "single", got ${String(mode)}`);
    this.mode = mode;
    for (const m of this.temporal) m.setStepMode(mode);
    return this;
  }

  /** Starts a new sequence: neurons back to their initial membrane, TEBN back to step 1. */
  resetState(): void {
    for (const m of this.temporal) m.resetState();
  }

  /** Keeps only the given rows of the current batch in every neuron's state (anytime inference). */
  selectSamples(rows: Int32Array | readonly number[]): void {
    const r = rows instanceof Int32Array ? rows : Int32Array.from(rows);
    for (const m of this.temporal) m.selectSamples(r);
  }

  /** New samples take the places of the given rows, starting from the initial state (anytime refill). */
  resetSamples(rows: Int32Array | readonly number[]): void {
    const r = rows instanceof Int32Array ? rows : Int32Array.from(rows);
    for (const m of this.temporal) m.resetSamples(r);
  }

  private checkInput(x: Tensor, lead: number): void {
    const want = this.options.inputShape;
    const got = x.shape.slice(lead);
    if (got.length !== 3 || got.some((d, i) => d !== want[i])) {
      throw new ShapeError(`${this.spec.name}`, `expects input [${lead === 2 ? "T, B" : "B"}, ${want.join(", ")}], got ${fmtShape(x.shape)}`);
    }
  }

  forward(x: Tensor): Tensor {
    if (x.ndim === 4) x = repeatTime(x, this.T);
    if (x.ndim !== 5) throw new ShapeError(this.spec.name, `expects [T, B, C, H, W] or a static [B, C, H, W], got ${fmtShape(x.shape)}`);
    this.checkInput(x, 2);
    const T = x.shape[0]!;
    if (this.mode === "single") {
      this.resetState();
      const outs: Tensor[] = [];
      for (let t = 0; t < T; t++) outs.push(this.step(x.index(t)));
      return stack(outs, 0);
    }
    for (const m of this.temporal) m.T = T;
    return unfoldTime(this.net.call(foldTime(x)), T);
  }

  /** One timestep in single-step mode; neuron state is kept between calls. */
  step(xt: Tensor): Tensor {
    if (this.mode !== "single") throw new Error(`${this.spec.name}: step() needs single-step mode; call setStepMode("single") first`);
    this.checkInput(xt, 1);
    return this.net.call(xt);
  }

  /** A fresh model with the same spec, options and weights. */
  clone(): SpikingModel {
    // imported lazily: build.ts imports this file
    const copy = buildModelRef!(this.spec, this.options);
    copy.loadStateDict(this.stateDict(), { context: `clone of ${this.spec.name}` });
    copy.train(this.training);
    copy.setStepMode(this.mode);
    return copy;
  }

  override describe(): string {
    const o = this.options;
    const act = o.route === "ann" ? o.activation + (o.activation === "qcfs" ? ` L=${o.L}` : "") : `${o.neuron}${o.tebn ? "+tebn" : ""}`;
    return `SpikingModel(${this.spec.name}, route=${o.route}, ${act}, T=${o.T}, input=[${o.inputShape.join(",")}], classes=${o.numClasses})`;
  }
}

/** Set by build.ts (breaks the import cycle between the model and its builder). */
let buildModelRef: ((spec: ModelSpec, opts: ResolvedBuildOptions) => SpikingModel) | null = null;
export function registerBuilder(f: (spec: ModelSpec, opts: ResolvedBuildOptions) => SpikingModel): void {
  buildModelRef = f;
}
