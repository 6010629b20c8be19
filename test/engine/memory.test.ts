/**
 * The tape must not keep tensors alive after a step: a synchronous training loop (no await between steps)
 * once grew by every step's activations because graph nodes held WeakRefs to their outputs, and V8 keeps every
 * WeakRef target alive until the current job ends.
 */
import { describe, expect, it } from "vitest";
import { Tensor, conv2d, mean, relu } from "../../src/engine/index.js";

describe("autograd memory", () => {
  it("a synchronous loop of forward/backward steps does not accumulate activation buffers", () => {
    const w = Tensor.randn([16, 16, 3, 3], undefined, 0.1, true);
    const x = Tensor.randn([32, 16, 32, 32]); // 2 MB per activation
    const before = process.memoryUsage().arrayBuffers;
    for (let step = 0; step < 120; step++) {
      let h = x;
      for (let l = 0; l < 4; l++) h = relu(conv2d(h, w, null, { padding: 1 }));
      mean(h).backward();
      w.grad = null;
    }
    // a leak keeps ~120 steps × 8 activations × 2 MB (≈ 2 GB); without one, garbage stays bounded by the GC
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(grown).toBeLessThan(600e6);
  });
});
