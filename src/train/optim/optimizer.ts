/**
 * Optimiser base: a list of named parameters, each with its weight-decay switch, the learning rate set by
 * the schedule, and per-parameter state kept in Float32Arrays so it can go into a checkpoint bit-exactly.
 *
 * Weight decay: parameters whose `weightDecay` flag is false (batch-norm affine, QCFS thresholds, TEBN
 * per-step scales, as flagged by src/nn) are excluded by default. `decayAll: true` applies it to every
 * parameter, which is what the reference code does (spec §9, §12.18).
 */
import type { Tensor } from "../../engine/tensor.js";

/** A parameter the optimiser updates. `weightDecay === false` excludes it from weight decay (unless decayAll). */
export type ParamTensor = Tensor & { weightDecay?: boolean };

export interface NamedParam {
  name: string;
  param: ParamTensor;
}

export type ParamsInput =
  | Iterable<[string, ParamTensor]>
  | readonly NamedParam[]
  | readonly ParamTensor[];

export interface OptimiserState {
  /** Name of the optimiser ("sgd" | "adamw" | "adam"). */
  type: string;
  /** JSON-serialisable scalars (step counts, lr, hyperparameters). */
  scalars: Record<string, unknown>;
  /** Per-parameter buffers: key `${paramName}.${bufferName}`. */
  buffers: Map<string, Float32Array>;
}

export function normaliseParams(params: ParamsInput): NamedParam[] {
  const out: NamedParam[] = [];
  let i = 0;
  for (const item of params as Iterable<unknown>) {
    if (Array.isArray(item)) out.push({ name: String(item[0]), param: item[1] as ParamTensor });
    else if (item && typeof item === "object" && "param" in item) out.push(item as NamedParam);
    else out.push({ name: `param${i}`, param: item as ParamTensor });
    i++;
  }
  const seen = new Set<string>();
  for (const p of out) {
    if (seen.has(p.name)) throw new Error(`optimiser: duplicate parameter name "${p.name}"`);
    seen.add(p.name);
  }
  return out;
}

export abstract class Optimiser {
  readonly params: NamedParam[];
  lr: number;
  readonly weightDecay: number;
  readonly decayAll: boolean;

  constructor(params: ParamsInput, opts: { lr: number; weightDecay?: number; decayAll?: boolean }) {
    this.params = normaliseParams(params);
    if (!(opts.lr >= 0) || !Number.isFinite(opts.lr)) throw new Error(`optimiser: lr must be a finite number >= 0, got ${opts.lr}`);
    this.lr = opts.lr;
    this.weightDecay = opts.weightDecay ?? 0;
    if (!(this.weightDecay >= 0)) throw new Error(`optimiser: weightDecay must be >= 0, got ${opts.weightDecay}`);
    this.decayAll = opts.decayAll ?? false;
  }

  /** The weight decay that applies to this parameter. */
  decayFor(p: NamedParam): number {
    if (this.decayAll) return this.weightDecay;
    return p.param.weightDecay === false ? 0 : this.weightDecay;
  }

  /** Clears every parameter's gradient and returns its memory to the activation pool (Tensor.releaseGrad). */
  zeroGrad(): void {
    for (const p of this.params) p.param.releaseGrad();
  }

  /** One update of every parameter that has a gradient (under noGrad; parameters are changed in place). */
  abstract step(): void;

  abstract stateDict(): OptimiserState;
  abstract loadStateDict(state: OptimiserState): void;

  protected checkState(state: OptimiserState, type: string): void {
    if (state.type !== type) throw new Error(`optimiser state: written by a "${state.type}" optimiser, cannot load into "${type}"`);
  }

  protected loadBuffer(state: OptimiserState, key: string, size: number): Float32Array | undefined {
    const b = state.buffers.get(key);
    if (!b) return undefined;
    if (b.length !== size) throw new Error(`optimiser state: buffer "${key}" has ${b.length} elements, parameter has ${size}`);
    return new Float32Array(b);
  }
}
