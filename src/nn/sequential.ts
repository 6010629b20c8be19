import type { Tensor } from "../engine/tensor.js";
import { Module } from "./module.js";

/** Children named "0", "1", ... run in order (torch.nn.Sequential). */
export class Sequential extends Module {
  private readonly list: Module[] = [];

  constructor(...layers: Module[]) {
    super();
    for (const l of layers) this.append(l);
  }

  append(m: Module): this {
    this.registerModule(String(this.list.length), m);
    this.list.push(m);
    return this;
  }

  get length(): number {
    return this.list.length;
  }
  at(i: number): Module {
    const m = this.list[i < 0 ? this.list.length + i : i];
    if (!m) throw new RangeError(`Sequential: index ${i} out of range (length ${this.list.length})`);
    return m;
  }
  get layers(): readonly Module[] {
    return this.list;
  }
  /** Replaces layer i (conversion swaps activations, BN folding swaps BN for Identity). */
  set(i: number, m: Module): void {
    this.replaceChild(String(i), m);
  }
  protected override onChildReplaced(name: string, m: Module): void {
    this.list[Number(name)] = m;
  }

  forward(x: Tensor): Tensor {
    const list = this.list;
    for (let i = 0; i < list.length; i++) {
      const m = list[i]!;
      const next = list[i + 1];
      // hooks must see each layer's own output, so layers with hooks never fuse
      if (next && !m.hasForwardHooks() && !next.hasForwardHooks()) {
        const fused = next.forwardAfter(m, x);
        if (fused) {
          x = fused;
          i++;
          continue;
        }
      }
      x = m.call(x);
    }
    return x;
  }
}
