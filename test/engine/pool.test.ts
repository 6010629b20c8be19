/**
 * The activation pool (src/engine/memory.ts): buffers come back to the pool at the end of a tidy scope,
 * escaped tensors are released (and, in strict mode, their memory detached) rather than shared with a later step,
 * kept results survive, and pooling never changes a number.
 */
import { loadAddon } from "../../src/engine/native/index.js";
import { afterEach, describe, expect, it } from "vitest";
import {
  Tensor, Rng, add, conv2d, mean, mul, relu, tidy, allocUninit, allocZeroed, clearPool, poolStats, inTidyScope, sizeClass, setPoolDetach,
} from "../../src/engine/index.js";
import { buildModel } from "../../src/models/build.js";
import { taskLoss } from "../../src/train/losses.js";
import { SGD } from "../../src/train/optim/sgd.js";

const BIG = 1 << 16;

afterEach(() => clearPool());

describe("tidy", () => {
  it("reuses a buffer released by the previous scope and zero-fills on request", () => {
    setPoolDetach(true);
    let first: ArrayBufferLike | null = null;
    tidy(() => {
      const a = allocZeroed(BIG);
      a.fill(7);
      first = a.buffer;
    });
    expect(poolStats().idleBuffers).toBe(1);
    const again = tidy(() => {
      const b = allocZeroed(BIG);
      expect(b.every((v) => v === 0)).toBe(true);
      return Array.from(b.subarray(0, 4));
    });
    expect(again).toEqual([0, 0, 0, 0]);
    expect(poolStats().idleBuffers).toBe(1);
    // strict mode: the first scope's view was detached when its buffer went back to the pool
    expect((first as unknown as ArrayBuffer).byteLength).toBe(0);
  });

  for (const strict of [true, false]) {
    it(`releases tensors that escape a scope without being returned (${strict ? "strict" : "default"} mode)`, () => {
      setPoolDetach(strict);
      try {
        let leaked: Tensor | null = null;
        let view: Tensor | null = null;
        let raw: Float32Array | null = null;
        const kept = tidy(() => {
          leaked = new Tensor(allocUninit(BIG), [BIG]);
          view = leaked.reshape([BIG / 2, 2]);
          raw = leaked.storage;
          const out = new Tensor(allocZeroed(BIG).fill(3), [BIG]);
          // a view of the result shares its buffer: kept with it
          return { out, half: out.reshape([2, BIG / 2]) };
        });
        expect(kept.out.data.length).toBe(BIG);
        expect(kept.half.data[5]).toBe(3);
        expect(leaked!.data.length).toBe(0);
        expect(view!.size).toBe(0);
        // an op on a released tensor fails on its size instead of reading recycled memory
        expect(() => add(leaked!, kept.out)).toThrow();
        // only strict mode detaches the memory itself (raw arrays taken inside the scope)
        expect(raw!.length).toBe(strict ? 0 : BIG);
      } finally {
        setPoolDetach(true);
      }
    });
  }

  it("releases tensors of an inner scope's buffers only when the buffer goes back to the pool", () => {
    setPoolDetach(false);
    try {
      let inner: Tensor | null = null;
      const outer = tidy(() => {
        const r = tidy(() => new Tensor(allocZeroed(BIG).fill(2), [BIG]));
        // made in the outer scope over the inner scope's kept buffer: released with the outer scope
        inner = r.reshape([2, BIG / 2]);
        expect(inner.data[1]).toBe(2);
        return r.data[0]! + 1;
      });
      expect(outer).toBe(3);
      expect(inner!.size).toBe(0);
      expect(poolStats().idleBuffers).toBe(1);
    } finally {
      setPoolDetach(true);
    }
  });

  it("keeps results nested in arrays and objects, and hands kept buffers to the enclosing scope", () => {
    const outer = tidy(() => {
      const inner = tidy(() => ({ t: [new Tensor(allocZeroed(BIG).fill(1), [BIG])] }));
      expect(inTidyScope()).toBe(true);
      expect(inner.t[0]!.data[0]).toBe(1);
      return inner.t[0]!.data[0]! + 1;
    });
    expect(outer).toBe(2);
    expect(inTidyScope()).toBe(false);
  });

  it("releases the scope's buffers when fn throws", () => {
    expect(() => tidy(() => { allocZeroed(BIG); throw new Error("boom"); })).toThrow("boom");
    expect(inTidyScope()).toBe(false);
    expect(poolStats().idleBuffers).toBe(1);
  });

  it("hands out views that start on a 64-byte boundary (when the addon can tell)", () => {
    const r = loadAddon();
    if (!("addon" in r)) return;
    tidy(() => {
      for (const n of [BIG, BIG * 3 + 5, 1 << 22]) {
        const a = allocUninit(n);
        expect(r.addon.misalignment(a)).toBe(0);
      }
    });
  });

  it("pools by size class, so slightly smaller requests reuse a buffer", () => {
    tidy(() => allocZeroed(BIG));
    const reused = tidy(() => {
      const a = allocZeroed(BIG - 100);
      expect(a.length).toBe(BIG - 100);
      // the size class plus 64 bytes, so the view can start on a cache-line boundary
      expect(a.buffer.byteLength).toBe(BIG * 4 + 64);
      return poolStats().idleBuffers;
    });
    expect(reused).toBe(0);
    for (const b of [65, 100, 4096, 4097, 1e6, 51380224]) {
      const c = sizeClass(b);
      expect(c).toBeGreaterThanOrEqual(b);
      expect(c).toBeLessThanOrEqual(Math.max(64, b * 1.125 + 1));
    }
  });

  it("lends an idle buffer of a larger class (up to twice the size) before allocating, as a shrinking batch needs", () => {
    clearPool();
    tidy(() => void allocZeroed(BIG));
    expect(poolStats().idleBuffers).toBe(1);
    const { idle, bytes, length } = tidy(() => {
      const a = allocUninit(Math.floor(BIG * 0.7)); // another size class, still more than half of BIG
      return { idle: poolStats().idleBuffers, bytes: a.buffer.byteLength, length: a.length };
    });
    expect(idle).toBe(0); // taken from the pool, not allocated
    expect(bytes).toBe(BIG * 4 + 64);
    expect(length).toBe(Math.floor(BIG * 0.7));
    // below half the size a buffer is not lent: a fresh one of the small class is made
    const small = tidy(() => ({ idle: poolStats().idleBuffers, bytes: allocUninit(Math.floor(BIG * 0.4)).buffer.byteLength }));
    expect(small.idle).toBe(1);
    expect(small.bytes).toBeLessThan(BIG * 4);
  });

  it("does not pool small buffers or allocations outside a scope", () => {
    tidy(() => allocZeroed(16));
    allocZeroed(BIG);
    expect(poolStats().idleBuffers).toBe(0);
  });

  it("poisons uninitialised memory in tests, so kernels must overwrite their outputs", () => {
    expect(Number.isNaN(allocUninit(8)[3])).toBe(true);
  });

  it("conv forward/backward inside tidy equals the same computation outside", () => {
    const run = () => {
      const w = Tensor.randn([8, 4, 3, 3], new Rng(5), 0.2, true);
      const x = Tensor.randn([16, 4, 32, 32], new Rng(6));
      const loss = mean(relu(conv2d(relu(conv2d(x, w, null, { padding: 1 })), Tensor.randn([4, 8, 3, 3], new Rng(7), 0.2), null, { padding: 1 })));
      loss.backward();
      return { loss: loss.item(), grad: Array.from(w.grad!.data) };
    };
    const plain = run();
    const pooled = [tidy(run), tidy(run)];
    for (const p of pooled) {
      expect(p.loss).toBe(plain.loss);
      expect(p.grad).toEqual(plain.grad);
    }
  });

  it("training steps of an SNN give identical parameters with and without the pool", () => {
    const train = (pooled: boolean) => {
      const model = buildModel("vgg-small", { route: "snn", T: 2, neuron: "lif", tebn: true, seed: 4 });
      model.train();
      const opt = new SGD(model.namedParameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 });
      const rng = new Rng(9);
      const x = Tensor.randn([2, 8, 1, 28, 28], rng);
      const labels = Int32Array.from({ length: 8 }, () => rng.int(10));
      const losses: number[] = [];
      for (let s = 0; s < 3; s++) {
        const step = () => {
          const loss = taskLoss(model.forward(x), labels, { type: "tet", lambda: 1e-3, phi: 1 });
          opt.zeroGrad();
          loss.backward();
          opt.step();
          return loss.item();
        };
        losses.push(pooled ? tidy(step) : step());
      }
      return { losses, params: model.namedParameters().map(([, p]) => Array.from(p.data)) };
    };
    const a = train(false);
    const b = train(true);
    expect(b.losses).toEqual(a.losses);
    expect(b.params).toEqual(a.params);
  });
});

describe("leaf gradients", () => {
  const n = BIG;
  const leaf = (seed: number) => Tensor.randn([n], new Rng(seed), 1, true);

  it("adopts a fresh gradient buffer without copying, and it survives the scope", () => {
    const a = leaf(1), c = leaf(2);
    const g = tidy(() => {
      mul(a, c.detach()).backward(Tensor.ones([n]));
      return a.grad!.data;
    });
    expect(g.length).toBe(n);
    expect(Array.from(g.subarray(0, 3))).toEqual(Array.from(c.data.subarray(0, 3)));
    // adopted: the gradient's buffer is a pooled size class, not an exact-size copy
    expect(a.grad!.data.buffer.byteLength).toBe(sizeClass(n * 4) + 64);
  });

  it("never lets two leaves share a buffer (add hands the same gradient to both inputs)", () => {
    const a = leaf(3), b = leaf(4), c = leaf(5);
    tidy(() => mul(add(a, b), c.detach()).backward(Tensor.ones([n])));
    expect(a.grad!.data.buffer).not.toBe(b.grad!.data.buffer);
    a.grad!.data[0] = 1234;
    expect(b.grad!.data[0]).toBeCloseTo(c.data[0]!, 6);
  });

  it("sums several contributions to one leaf, and adds into an existing .grad", () => {
    const a = leaf(6), c = leaf(7);
    const run = () => tidy(() => add(mul(a, c.detach()), mul(a, a.detach())).backward(Tensor.ones([n])));
    run();
    for (let i = 0; i < 5; i++) expect(a.grad!.data[i]).toBeCloseTo(c.data[i]! + a.data[i]!, 5);
    run();
    for (let i = 0; i < 5; i++) expect(a.grad!.data[i]).toBeCloseTo(2 * (c.data[i]! + a.data[i]!), 5);
  });

  it("releaseGrad returns the buffer to the pool, detaches the old array, and the next backward reuses it", () => {
    const a = leaf(8), c = leaf(9);
    const step = () => tidy(() => mul(a, c.detach()).backward(Tensor.ones([n])));
    step();
    const old = a.grad!.data;
    const buf = old.buffer;
    a.releaseGrad();
    expect(a.grad).toBeNull();
    expect(old.length).toBe(0);
    const idle = poolStats().idleBuffers;
    step();
    expect(poolStats().idleBuffers).toBeLessThanOrEqual(idle);
    expect(a.grad!.data[0]).toBeCloseTo(c.data[0]!, 6);
    expect(buf.byteLength).toBe(0);
  });

  it("copies a gradient it did not allocate (the caller's seed), and leaves user-assigned grads alone", () => {
    const a = leaf(10);
    const seed = Tensor.ones([n]);
    tidy(() => mul(a, 1).backward(seed));
    const a2 = leaf(11);
    tidy(() => a2.reshape([n]).backward(seed));
    expect(a2.grad!.data.buffer).not.toBe(seed.data.buffer);
    a2.grad!.data[0] = 5;
    expect(seed.data[0]).toBe(1);
    const mine = Tensor.zeros([n]);
    a2.grad = mine;
    a2.releaseGrad();
    expect(mine.data.length).toBe(n);
  });
});
