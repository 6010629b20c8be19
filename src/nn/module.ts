/**
 * Base class of every layer (the torch.nn.Module contract): a tree of named children, parameters and buffers,
 * a training flag, and a state dict keyed by dotted paths ("features.3.weight").
 *
 * Forward is single-input single-output (`forward(x) -> y`); networks that need more (the RCS statistics,
 * neuron membranes) pass it through side channels owned by the SNN layer, so every container stays trivial.
 */
import { Tensor } from "../engine/tensor.js";
import { fmtShape } from "../engine/errors.js";
import { Parameter } from "./parameter.js";

export type StateDict = Record<string, Tensor>;

export type ForwardHook = (module: Module, input: Tensor, output: Tensor) => void;

/** Raised by loadStateDict; lists every missing key, unexpected key and shape mismatch at once. */
export class StateDictError extends Error {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly mismatched: { key: string; expected: readonly number[]; got: readonly number[] }[],
    context = "",
  ) {
    const parts: string[] = [];
    if (missing.length) parts.push(`missing keys: ${missing.join(", ")}`);
    if (unexpected.length) parts.push(`unexpected keys: ${unexpected.join(", ")}`);
    for (const m of mismatched) {
      parts.push(`shape mismatch for ${m.key}: model has ${fmtShape(m.expected)}, state dict has ${fmtShape(m.got)}`);
    }
    super(`loadStateDict${context ? ` (${context})` : ""}: ${parts.join("; ")}`);
    this.name = "StateDictError";
  }
}

export abstract class Module {
  training = true;
  private readonly _parameters = new Map<string, Parameter>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();
  private readonly _hooks: ForwardHook[] = [];

  abstract forward(x: Tensor): Tensor;

  /** forward plus the registered hooks; containers call children through this. */
  call(x: Tensor): Tensor {
    const y = this.forward(x);
    for (const h of this._hooks) h(this, x, y);
    return y;
  }

  /**
   * A layer may absorb the layer just before it in a Sequential (a spiking neuron folds an eval-mode batch norm
   * into its step kernel). Returns the output of both layers, or null when it does not fuse with prev here.
   */
  forwardAfter(_prev: Module, _x: Tensor): Tensor | null {
    return null;
  }

  hasForwardHooks(): boolean {
    return this._hooks.length > 0;
  }

  /** Returns a function that removes the hook. */
  registerForwardHook(hook: ForwardHook): () => void {
    this._hooks.push(hook);
    return () => {
      const i = this._hooks.indexOf(hook);
      if (i >= 0) this._hooks.splice(i, 1);
    };
  }

  // ---- registration ------------------------------------------------------------------------------------
  protected registerParameter<P extends Parameter>(name: string, p: P): P {
    this.checkName(name);
    this._parameters.set(name, p);
    return p;
  }
  protected registerBuffer<T extends Tensor>(name: string, t: T): T {
    this.checkName(name);
    this._buffers.set(name, t);
    return t;
  }
  protected registerModule<M extends Module>(name: string, m: M): M {
    this.checkName(name);
    this._children.set(name, m);
    return m;
  }
  /** Swaps a registered child (used by conversion and BN folding); the caller updates its own field. */
  replaceChild(name: string, m: Module): void {
    if (!this._children.has(name)) throw new Error(`${this.constructor.name}: no child named "${name}"`);
    this._children.set(name, m);
    this.onChildReplaced(name, m);
  }
  /** Containers that keep children in typed fields too override this to keep both in sync. */
  protected onChildReplaced(_name: string, _m: Module): void {}

  private checkName(name: string): void {
    if (!name || name.includes(".")) throw new Error(`${this.constructor.name}: invalid member name "${name}"`);
    if (this._parameters.has(name) || this._buffers.has(name) || this._children.has(name)) {
      throw new Error(`${this.constructor.name}: member "${name}" is already registered`);
    }
  }

  // ---- traversal ---------------------------------------------------------------------------------------
  namedChildren(): [string, Module][] {
    return [...this._children];
  }
  children(): Module[] {
    return [...this._children.values()];
  }
  /** This module and every descendant, depth-first pre-order, with dotted paths ("" for this one). */
  namedModules(prefix = ""): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this._children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }
  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }
  namedParameters(prefix = ""): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Tensor>();
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [n, p] of m._parameters) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([path ? `${path}.${n}` : n, p]);
      }
    }
    return out;
  }
  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }
  namedBuffers(prefix = ""): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules(prefix)) {
      for (const [n, b] of m._buffers) out.push([path ? `${path}.${n}` : n, b]);
    }
    return out;
  }
  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }
  /** Runs fn on every module, children first (like torch's apply). */
  apply(fn: (m: Module) => void): this {
    for (const c of this._children.values()) c.apply(fn);
    fn(this);
    return this;
  }

  // ---- mode --------------------------------------------------------------------------------------------
  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }
  eval(): this {
    return this.train(false);
  }
  zeroGrad(): void {
    for (const p of this.parameters()) p.releaseGrad();
  }

  // ---- state -------------------------------------------------------------------------------------------
  /** Parameters then buffers, keyed by dotted path. The tensors are the live ones (copy before mutating). */
  stateDict(): StateDict {
    const sd: StateDict = {};
    for (const [k, p] of this.namedParameters()) sd[k] = p;
    for (const [k, b] of this.namedBuffers()) sd[k] = b;
    return sd;
  }

  /**
   * Copies values into the live tensors (identity is kept, so optimiser references stay valid). strict:
   * any missing or unexpected key is an error; shape mismatches always are. Nothing is written on error.
   */
  loadStateDict(sd: StateDict | Map<string, Tensor>, opts: { strict?: boolean; context?: string } = {}): void {
    const strict = opts.strict ?? true;
    const src = sd instanceof Map ? sd : new Map(Object.entries(sd));
    const own = this.stateDict();
    const missing: string[] = [];
    const mismatched: { key: string; expected: readonly number[]; got: readonly number[] }[] = [];
    for (const [k, t] of Object.entries(own)) {
      const s = src.get(k);
      if (!s) {
        missing.push(k);
        continue;
      }
      if (s.shape.length !== t.shape.length || s.shape.some((d, i) => d !== t.shape[i])) {
        mismatched.push({ key: k, expected: t.shape, got: s.shape });
      }
    }
    const unexpected = [...src.keys()].filter((k) => !(k in own));
    if (mismatched.length || (strict && (missing.length || unexpected.length))) {
      throw new StateDictError(strict ? missing : [], strict ? unexpected : [], mismatched, opts.context);
    }
    for (const [k, t] of Object.entries(own)) {
      const s = src.get(k);
      if (s) t.data.set(s.data);
    }
  }

  /** One line per module, indented by depth (torch's repr). */
  toString(): string {
    const lines: string[] = [];
    const walk = (m: Module, name: string, depth: number): void => {
      lines.push(`${"  ".repeat(depth)}${name ? `(${name}): ` : ""}${m.describe()}`);
      for (const [n, c] of m._children) walk(c, n, depth + 1);
    };
    walk(this, "", 0);
    return lines.join("\n");
  }
  /** Short description used by toString; layers override to show their geometry. */
  describe(): string {
    return this.constructor.name;
  }
}
