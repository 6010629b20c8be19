/** The README's library tour, run as written (on a small slice so it stays fast). */
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { models, train, convert, cutoff, data, inference, report } from "../../src/index.js";
import { makeTempDir } from "../helpers/tmp.js";

describe("README library tour", () => {
  it("runs end to end through the public namespaces", async () => {
    const trainSet = data.loadBundledFashionMnist("train");
    expect(trainSet.count).toBe(6000);
    const ann = models.buildModel("vgg-small", { route: "ann", numClasses: 10, inputShape: [1, 28, 28], L: 4 });
    expect(ann.route).toBe("ann");

    const out = makeTempDir("spikecut-tour-");
    const config = train.resolveConfig(train.readConfigFile("configs/fmnist-qcfs-rcs-l2.yaml"), {
      epochs: 1, "dataset.bundled": true, "dataset.subset": { train: 512, test: 256 }, batchSize: 64, outDir: out,
    });
    const result = await train.train(config, { progress: false });
    const snn = convert.convertToSNN(result.model as models.SpikingModel, { T: 4 });

    const splits = await train.loadConfigData({ ...config, augmentation: { cropPad: 0, flip: false, cutout: 0 } });
    const cal = inference.collectOutputs(snn, splits.train, { T: 4, calibrationDropout: 0.3 });
    const test = inference.collectOutputs(snn, splits.test, { T: 4, monitors: true });
    const state = cutoff.topkPolicy.calibrate(cal.outputs, 0.01);
    const stops = cutoff.topkPolicy.decide(state, test.outputs);
    const ev1 = cutoff.evaluateStops(test.outputs, stops);
    expect(ev1.timesteps).toHaveLength(256);
    expect(cutoff.oct(test.outputs).accuracy).toBeCloseTo(cutoff.accuracyPerTimestep(test.outputs)[3]!, 10);

    const any = inference.inferAnytime(snn, splits.test, { policy: "topk", state, T: 4 });
    expect(Array.from(any.timesteps)).toEqual(Array.from(stops));

    const ev = inference.evaluateModel(snn, { train: splits.train, test: splits.test }, { T: 4 });
    const written = report.writeReport(join(out, "report"), ev.report);
    expect(existsSync(written.html)).toBe(true);
  });
});
