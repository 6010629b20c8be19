/**
 * Reverse-mode autograd on a tape (the micrograd contract, with tensors and multi-output nodes).
 *
 * Every differentiable op creates one GradNode holding its inputs and a backward closure. A node may have
 * several outputs (a fused neuron returns spikes and membrane); backward receives one gradient per output,
 * null for outputs nothing depended on, and returns one gradient per input (null where not needed).
 */
import { Tensor, relayout } from "./tensor.js";
import { getBackend } from "./backends.js";
import { adoptAsLeafGrad, allocSerial, allocUninit, allocatedSince, isPoolView } from "./memory.js";

export type BackwardFn = (gradOutputs: (Float32Array | null)[]) => (Float32Array | null)[];

export interface RecordOptions {
  /**
   * The backward understands layouts: it receives each output's gradient in that output's layout and returns each
   * input's gradient in that input's layout. Otherwise (every op that only reads `.data`) it sees and returns plain
   * gradients, and the tape converts the returned gradient of a blocked16 input.
   */
  layoutAware?: boolean;
}

export class GradNode {
  /**
   * Number of outputs. The node holds no reference to its outputs (each output points at its node and knows its
   * index): a node kept alive by the tape must not keep output buffers alive, and WeakRefs would (V8 keeps every
   * WeakRef target alive until the current job ends, i.e. for a whole synchronous training loop).
   */
  outputCount = 0;
  constructor(
    readonly name: string,
    readonly inputs: readonly Tensor[],
    readonly backward: BackwardFn,
    readonly layoutAware = false,
  ) {}
}

let noGradDepth = 0;

/** True when ops should record themselves on the tape. */
export function isGradEnabled(): boolean {
  return noGradDepth === 0;
}

/** Runs fn without recording any op (inference, optimiser updates). */
export function noGrad<T>(fn: () => T): T {
  noGradDepth++;
  try {
    return fn();
  } finally {
    noGradDepth--;
  }
}

/** Whether an op on these inputs must be recorded. */
export function needsGrad(inputs: readonly Tensor[]): boolean {
  if (noGradDepth > 0) return false;
  for (const t of inputs) if (t.requiresGrad) return true;
  return false;
}

/**
 * Attaches a node to freshly computed outputs when any input requires grad. Returns the outputs.
 * This is how custom ops with a hand-written backward are declared.
 */
export function record<T extends Tensor[]>(
  name: string,
  inputs: readonly Tensor[],
  outputs: T,
  backward: BackwardFn,
  options: RecordOptions = {},
): T {
  if (!needsGrad(inputs)) return outputs;
  const node = new GradNode(name, inputs, backward, options.layoutAware === true);
  if (!node.layoutAware) {
    for (const out of outputs) {
      if (out.layout !== "plain") throw new Error(`autograd: ${name} produced a ${out.layout} output but its backward is not layout-aware`);
    }
  }
  node.outputCount = outputs.length;
  outputs.forEach((out, i) => {
    out.requiresGrad = true;
    out.gradNode = node;
    out.outputIndex = i;
  });
  return outputs;
}

/** Runs backpropagation from root, accumulating into .grad of every leaf that requires grad. */
export function runBackward(root: Tensor, seed: Float32Array): void {
  // topological order of nodes reachable from root
  const order: GradNode[] = [];
  const visited = new Set<GradNode>();
  const stack: [GradNode, number][] = [];
  if (root.gradNode) stack.push([root.gradNode, 0]);
  while (stack.length) {
    const top = stack[stack.length - 1]!;
    const [node, idx] = top;
    if (idx === 0 && visited.has(node)) {
      stack.pop();
      continue;
    }
    visited.add(node);
    if (idx < node.inputs.length) {
      top[1]++;
      const child = node.inputs[idx]!.gradNode;
      if (child && !visited.has(child)) stack.push([child, 0]);
    } else {
      stack.pop();
      order.push(node);
    }
  }

  // Pending gradients per node output. A slot is "owned" when its buffer was allocated here and is referenced by
  // nothing else, so it may be added into in place. Ownership is per slot, not per buffer: once a buffer is handed
  // to a node's backward, that backward may return it for several inputs (add returns [g, g]), and an in-place add
  // into it would then corrupt the other inputs' gradients.
  const slots = new Map<GradNode, { g: (Float32Array | null)[]; owned: boolean[] }>();
  const accumulate = (t: Tensor, g: Float32Array): void => {
    const node = t.gradNode!;
    let s = slots.get(node);
    if (!s) {
      s = { g: new Array<Float32Array | null>(node.outputCount).fill(null), owned: new Array<boolean>(node.outputCount).fill(false) };
      slots.set(node, s);
    }
    const i = t.outputIndex;
    const prev = s.g[i];
    if (!prev) {
      s.g[i] = g;
      return;
    }
    if (!s.owned[i]) {
      const copy = allocUninit(prev.length);
      getBackend().add(prev, g, copy);
      s.owned[i] = true;
      s.g[i] = copy;
      return;
    }
    getBackend().add(prev, g, prev);
  };

  // Leaf gradients wait here until the pass ends, then become .grad: adopted without a copy when the buffer was
  // allocated during this pass and no other leaf got the same buffer (add hands [g, g] to two leaves).
  const since = allocSerial();
  const leaves = new Map<Tensor, { g: Float32Array; owned: boolean }>();
  const accumulateLeaf = (t: Tensor, g: Float32Array): void => {
    if (!t.requiresGrad) return;
    const s = leaves.get(t);
    if (!s) {
      leaves.set(t, { g, owned: false });
      return;
    }
    if (!s.owned) {
      const sum = allocUninit(s.g.length);
      getBackend().add(s.g, g, sum);
      s.g = sum;
      s.owned = true;
      return;
    }
    getBackend().add(s.g, g, s.g);
  };

  if (root.gradNode) accumulate(root, seed);
  else accumulateLeaf(root, seed);

  for (let i = order.length - 1; i >= 0; i--) {
    const node = order[i]!;
    const s = slots.get(node);
    if (!s) continue;
    slots.delete(node);
    const gOut = s.g;
    if (gOut.every((g) => g === null)) continue;
    // backward closures that call ops must not grow the tape (no higher-order gradients)
    noGradDepth++;
    let gIn: (Float32Array | null)[];
    try {
      gIn = node.backward(gOut);
    } finally {
      noGradDepth--;
    }
    node.inputs.forEach((inp, j) => {
      let g = gIn[j];
      if (!g || !inp.requiresGrad) return;
      if (!node.layoutAware && inp.layout === "blocked16") g = relayout(g, inp.shape, true);
      if (g.length !== inp.size) {
        throw new Error(`autograd: ${node.name} returned a gradient of ${g.length} elements for an input of ${inp.size}`);
      }
      if (inp.gradNode) accumulate(inp, g);
      else accumulateLeaf(inp, g);
    });
  }

  const holders = new Map<ArrayBuffer, number>();
  for (const { g } of leaves.values()) holders.set(g.buffer as ArrayBuffer, (holders.get(g.buffer as ArrayBuffer) ?? 0) + 1);
  for (const [t, { g }] of leaves) {
    if (t.grad) {
      const gg = t.grad.layout === t.layout ? g : relayout(g, t.shape, t.grad.layout === "blocked16", new Float32Array(g.length));
      getBackend().add(t.grad.storage, gg, t.grad.storage);
      continue;
    }
    const exclusive = holders.get(g.buffer as ArrayBuffer) === 1 && isPoolView(g) && allocatedSince(g, since);
    if (exclusive) adoptAsLeafGrad(g);
    t.grad = new Tensor(exclusive ? g : new Float32Array(g), t.shape, false, t.layout);
  }
}
