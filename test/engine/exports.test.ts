import { it, expect } from "vitest";
import * as E from "../../src/engine/index.js";
it("the engine index exports every name of the ops contract (docs/dev/contracts.md)", () => {
  const names = "add sub mul div neg exp log sqrt pow abs relu sigmoid tanh clamp floorSte where maximum minimum sum mean max argmax transpose permute concat stack repeatTime matmul linear conv2d avgPool2d maxPool2d adaptiveAvgPool2d batchNorm dropout softmax logSoftmax crossEntropy mseLoss topk record noGrad isGradEnabled Tensor Rng globalRng manualSeed getBackend setBackend withBackend ShapeError".split(" ");
  const missing = names.filter((n) => typeof (E as Record<string, unknown>)[n] !== "function" && typeof (E as Record<string, unknown>)[n] !== "object");
  expect(missing).toEqual([]);
});
