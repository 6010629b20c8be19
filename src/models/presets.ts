/** Architecture presets as model specs (spec §7). "act" and "bn" take their form from the build route. */
import type { LayerSpec, ModelSpec } from "./spec.js";

const cbr = (out: number, kernel = 3, stride = 1, padding = 1): LayerSpec[] => [
  { type: "conv", out, kernel, stride, padding },
  { type: "bn" },
  { type: "act" },
];
const ap: LayerSpec = { type: "avgpool", kernel: 2 };

/** VGG feature stack from a torchvision-style cfg ("M" = AvgPool2d(2), spec §5.3). */
function vggFeatures(cfg: (number | "M")[]): LayerSpec[] {
  return cfg.flatMap((c) => (c === "M" ? [ap] : cbr(c)));
}

const vggClassifier = (): LayerSpec[] => [
  { type: "flatten" },
  { type: "linear", out: 4096 },
  { type: "act" },
  { type: "linear", out: 4096 },
  { type: "act" },
  { type: "linear", out: "classes" },
];

function resnet(name: string, stem: number, stages: [number, number][]): ModelSpec {
  const layers: LayerSpec[] = [{ type: "conv", out: stem, kernel: 3, stride: 1, padding: 1, bias: false }, { type: "bn" }, { type: "act" }];
  stages.forEach(([ch, n], si) => {
    for (let b = 0; b < n; b++) layers.push({ type: "block", out: ch, stride: b === 0 && si > 0 ? 2 : 1 });
  });
  layers.push({ type: "adaptiveavgpool" }, { type: "flatten" }, { type: "linear", out: "classes" });
  return { name, inputShape: [3, 32, 32], convInit: "torch", layers };
}

export const PRESETS: Record<string, () => ModelSpec> = {
  /** 28×28 (Fashion-MNIST): conv 32-32-pool-64-64-pool, fc 256, fc classes. */
  "vgg-small": () => ({
    name: "vgg-small",
    inputShape: [1, 28, 28],
    convInit: "kaiming_fan_out",
    zeroLinearBias: true,
    layers: [
      ...vggFeatures([32, 32, "M", 64, 64, "M"]),
      { type: "flatten" },
      { type: "linear", out: 256 },
      { type: "act" },
      { type: "linear", out: "classes" },
    ],
  }),
  vgg11: () => ({
    name: "vgg11",
    inputShape: [3, 32, 32],
    convInit: "kaiming_fan_out",
    zeroLinearBias: true,
    layers: [...vggFeatures([64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]), ...vggClassifier()],
  }),
  vgg16: () => ({
    name: "vgg16",
    inputShape: [3, 32, 32],
    convInit: "kaiming_fan_out",
    zeroLinearBias: true,
    layers: [...vggFeatures([64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]), ...vggClassifier()],
  }),
  resnet18: () => resnet("resnet18", 64, [[64, 2], [128, 2], [256, 2], [512, 2]]),
  resnet20: () => resnet("resnet20", 16, [[16, 3], [32, 3], [64, 3]]),
  /** CIFAR10-DVS network of the paper's runs (ORIG vgglike.py), 2×128×128 event frames. */
  vggann: () => ({
    name: "vggann",
    inputShape: [2, 128, 128],
    convInit: "kaiming_fan_out",
    zeroLinearBias: true,
    layers: [
      ...cbr(64, 4, 4, 0), ...cbr(64), ...cbr(128), ap,
      ...cbr(256), ...cbr(256), ap,
      ...cbr(512), ...cbr(512), ap,
      ...cbr(512), ...cbr(512), ap,
      { type: "flatten" },
      { type: "linear", out: "classes" },
    ],
  }),
  /** TET-style native SNN for event data: 8×8 stride-4 encoder conv, then VGG stages. */
  vggsnn: () => ({
    name: "vggsnn",
    inputShape: [2, 128, 128],
    convInit: "kaiming_fan_out",
    zeroLinearBias: true,
    layers: [
      ...cbr(64, 8, 4, 3), ...cbr(64), ...cbr(128), ap,
      ...cbr(256), ...cbr(256), ap,
      ...cbr(512), ...cbr(512), ap,
      ...cbr(512), ...cbr(512), ap,
      { type: "flatten" },
      { type: "linear", out: "classes" },
    ],
  }),
};

export const PRESET_NAMES = Object.keys(PRESETS);

export function presetSpec(name: string): ModelSpec {
  const f = PRESETS[name];
  if (!f) throw new Error(`unknown model preset "${name}"; expected one of ${PRESET_NAMES.join(", ")}`);
  return f();
}
